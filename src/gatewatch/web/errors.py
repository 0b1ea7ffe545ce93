"""Errors the web layer raises itself; `web.app` turns them into JSON bodies."""


class InvalidQuery(Exception):
    """A query parameter that passed type checks but is still wrong (e.g. a bad matcher)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
