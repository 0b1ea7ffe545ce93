"""The console's session cookie (signed, HttpOnly, SameSite=Lax): it holds the id of a
server-side session (`gatewatch.signin`) and a CSRF token that every form, the sign-in form
included, must send back."""

import hmac
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import Request

from gatewatch.auth.roles import ROLE_PERMISSIONS, Permission, Principal
from gatewatch.config import GatewatchConfig
from gatewatch.private_files import write_private
from gatewatch.web.deps import services_of

CSRF_FIELD = "csrf"


class SignInRequired(Exception):
    """No session: the page redirects to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.location = f"/ui/login?next={quote(next_path)}"


class NotAllowed(Exception):
    """Signed in, but the role may not do this: HTTP 403 with a page saying so."""


class BadCsrf(Exception):
    """A form without this session's CSRF token: HTTP 403."""


def session_secret(config: GatewatchConfig) -> str:
    """The configured secret, or one kept under data_dir so sessions survive restarts."""
    if config.auth.session_secret:
        return config.auth.session_secret
    path = Path(config.data_dir) / "session.key"
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


SESSION_FIELD = "sid"


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, made on first use (before sign-in too: the sign-in form
    carries one)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return str(token)


def remember(request: Request, session_id: str) -> None:
    """After a sign-in: a fresh cookie (new CSRF token) pointing at the new session."""
    request.session.clear()
    request.session.update({SESSION_FIELD: session_id, CSRF_FIELD: secrets.token_urlsafe(32)})


def session_id(request: Request) -> str | None:
    value = request.session.get(SESSION_FIELD)
    return str(value) if value else None


def current_user(request: Request) -> Principal:
    """A page dependency: the signed-in person, or a redirect to the sign-in form."""
    sid = session_id(request)
    principal = services_of(request).signin.principal(sid) if sid else None
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return principal


def require_permission(principal: Principal, permission: Permission) -> None:
    if permission not in ROLE_PERMISSIONS[principal.role]:
        raise NotAllowed(
            f"{principal.name} ({principal.role.value}) may not {permission.value}; "
            "ask an admin for the responder role"
        )


def check_csrf(request: Request, presented: str | None) -> None:
    expected = str(request.session.get(CSRF_FIELD, ""))
    # Bytes, not str: a non-ASCII token from a form must be a 403, not a TypeError.
    if not expected or not hmac.compare_digest(expected.encode(), (presented or "").encode()):
        raise BadCsrf("the form's CSRF token does not match this session; reload and retry")
