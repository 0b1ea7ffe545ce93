"""The REST API, one module per domain: parse, authorize, call the domain's service,
serialize."""
