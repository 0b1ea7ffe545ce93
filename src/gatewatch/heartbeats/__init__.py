"""Dead man's switches: signals that must keep arriving, and a page when one goes silent."""
