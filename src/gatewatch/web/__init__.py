"""HTTP: the REST API (and later the UI) over the incident engine; no SQL here."""
