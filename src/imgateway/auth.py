"""JWT (HS256) authentication of WebSocket clients."""

import jwt


class AuthError(Exception):
    """Why a token was refused; the reason is a metric label."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def user_from_token(token: str | None, secret: str) -> str:
    """The `sub` of a valid, unexpired HS256 token."""
    if not token:
        raise AuthError("missing_token")
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("expired_token") from None
    except jwt.InvalidTokenError:
        raise AuthError("invalid_token") from None
    return str(claims["sub"])


def make_token(user: str, secret: str, lifetime_seconds: int, now: float) -> str:
    """A token for `user`; the load generator and the tests use it."""
    return jwt.encode({"sub": user, "exp": int(now) + lifetime_seconds}, secret, algorithm="HS256")
