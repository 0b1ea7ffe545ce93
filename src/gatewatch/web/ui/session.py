"""Sign-in for people: a configured token or a user's password, then a signed session cookie
(HttpOnly, SameSite=Lax) holding who they are, their role and a CSRF token that every form
must send back."""

import hmac
import secrets
from pathlib import Path
from urllib.parse import quote

from fastapi import Request

from gatewatch.auth.passwords import verify_password
from gatewatch.auth.roles import ROLE_PERMISSIONS, Permission, Role
from gatewatch.config import GatewatchConfig
from gatewatch.private_files import write_private
from gatewatch.web.auth import Principal

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


def check_credentials(
    config: GatewatchConfig, token: str, user: str, password: str
) -> Principal | None:
    """Who these credentials belong to; ingest tokens cannot sign in to the UI."""
    if token:
        for entry in config.auth.tokens:
            if entry.role != Role.INGEST and hmac.compare_digest(
                entry.token.encode(), token.strip().encode()
            ):
                return Principal(entry.name, entry.role)
        return None
    for account in config.auth.users:
        if account.name == user and verify_password(password, account.password_hash):
            return Principal(account.name, account.role)
    return None


def sign_in(request: Request, principal: Principal) -> None:
    request.session.clear()
    request.session.update(
        {
            "user": principal.name,
            "role": principal.role.value,
            CSRF_FIELD: secrets.token_urlsafe(32),
        }
    )


def current_user(request: Request) -> Principal:
    """A page dependency: the signed-in person, or a redirect to the sign-in form."""
    user, role = request.session.get("user"), str(request.session.get("role"))
    if not user or role not in {r.value for r in Role}:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return Principal(str(user), Role(role))


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
