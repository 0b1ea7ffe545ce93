"""Helpers the tests share: real PostgreSQL clusters, free ports, processes, payloads."""
