"""On-call: people, rotations with hand-offs in a time zone, and overrides."""
