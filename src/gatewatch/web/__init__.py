"""HTTP: the REST API and the console over the domain services; no SQL here."""
