"""Payload parsers: each turns one wire format into an AlertBatch of normalized alerts."""
