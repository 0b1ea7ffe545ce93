import pytest

from gatewatch.urls import web_link


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://wiki.example/runbooks/x", "https://wiki.example/runbooks/x"),
        ("http://gw:8787/runbooks/x", "http://gw:8787/runbooks/x"),
        ("/runbooks/message-loss", "/runbooks/message-loss"),
        ("runbooks/x", "runbooks/x"),
        ("javascript:alert(document.domain)", None),
        ("JavaScript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("vbscript:msgbox", None),
        ("//evil.example/x", None),
        ("https:///no-host", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_only_web_pages_become_links(url: str | None, link: str | None) -> None:
    assert web_link(url) == link
