"""The on-call console: server-rendered pages for people, signed in with a session cookie."""
