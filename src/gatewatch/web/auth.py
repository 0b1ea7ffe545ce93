"""Bearer tokens from the config, each with a role; handlers declare the permission they need."""

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from gatewatch.auth.roles import ROLE_PERMISSIONS, Permission, Principal
from gatewatch.config.auth import TokenConfig
from gatewatch.web.schemas import ErrorBody


class Unauthorized(Exception):
    """No valid token: HTTP 401."""


class Forbidden(Exception):
    """A valid token whose role lacks the permission: HTTP 403."""


class TokenAuthenticator:
    def __init__(self, tokens: list[TokenConfig]) -> None:
        self._tokens = tokens

    def authenticate(self, header: str | None) -> Principal:
        scheme, _, presented = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            raise Unauthorized("missing bearer token (send 'Authorization: Bearer <token>')")
        for entry in self._tokens:
            # Constant-time comparison: response timing does not reveal a token prefix.
            if hmac.compare_digest(entry.token.encode(), presented.strip().encode()):
                return Principal(entry.name, entry.role)
        raise Unauthorized("invalid bearer token")


def require(permission: Permission) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the caller, if its role grants `permission`."""

    def dependency(request: Request) -> Principal:
        authenticator: TokenAuthenticator = request.app.state.authenticator
        principal = authenticator.authenticate(request.headers.get("authorization"))
        if permission not in ROLE_PERMISSIONS[principal.role]:
            raise Forbidden(
                f"token {principal.name!r} (role {principal.role.value}) may not {permission.value}"
            )
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require(Permission.READ))]
Responder = Annotated[Principal, Depends(require(Permission.RESPOND))]
# The error bodies every authenticated endpoint may answer with (for the OpenAPI document).
API_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 422, 503)
}
