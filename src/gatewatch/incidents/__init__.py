"""Incidents: grouping alerts into incidents and their lifecycle (triggered, acked, resolved)."""
