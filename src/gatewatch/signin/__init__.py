"""Signing people in to the console: credentials, server-side sessions, the attempt limit."""
