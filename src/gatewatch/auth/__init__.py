"""Who may do what: roles and their permissions, and password hashes for console users."""
