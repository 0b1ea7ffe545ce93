"""`gatewatch up`: the whole chain on loopback, generated configs, supervised processes."""
