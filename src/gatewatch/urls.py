"""Which URLs from alerts may become links: only web pages, never `javascript:` or `data:`."""

from urllib.parse import urlsplit

WEB_SCHEMES = ("http", "https")


def web_link(url: str | None) -> str | None:
    """`url` when it is an http(s) or a relative (same-site) URL; None otherwise."""
    if not url:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme:
        return text if parts.scheme.lower() in WEB_SCHEMES and parts.netloc else None
    # Relative: a path on this site, not a protocol-relative `//host` one.
    return text if not text.startswith("//") and not parts.netloc else None
