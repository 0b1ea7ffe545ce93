"""Who may call the API and sign in to the console, as written in gatewatch.yml."""

from datetime import timedelta

from pydantic import Field, field_validator

from gatewatch.auth.passwords import is_password_hash
from gatewatch.auth.roles import Role
from gatewatch.config.base import ConfigModel
from gatewatch.durations import Duration


class TokenConfig(ConfigModel):
    name: str = Field(min_length=1, description="Shown in timelines as the actor")
    role: Role
    token: str = Field(min_length=16, repr=False)


class UserConfig(ConfigModel):
    """A person who signs in to the web UI with a password (only its hash is stored)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._@-]+$")
    role: Role
    password_hash: str = Field(repr=False, description="from `gatewatch hash-password`")

    @field_validator("password_hash")
    @classmethod
    def _hashed(cls, value: str) -> str:
        if not is_password_hash(value):
            raise ValueError("not a password hash; create one with `gatewatch hash-password`")
        return value


class AuthConfig(ConfigModel):
    tokens: list[TokenConfig] = []
    users: list[UserConfig] = []
    session_secret: str | None = Field(
        default=None,
        min_length=32,
        repr=False,
        description="signs session cookies; default: a key kept in data_dir/session.key",
    )
    session_lifetime: Duration = timedelta(hours=12)
    cookie_secure: bool = Field(
        default=False, description="send the session cookie over HTTPS only (set behind TLS)"
    )

    @field_validator("tokens")
    @classmethod
    def _unique(cls, tokens: list[TokenConfig]) -> list[TokenConfig]:
        seen: set[str] = set()
        for token in tokens:
            if token.token in seen:
                raise ValueError(f"token of {token.name!r} is used by another entry")
            seen.add(token.token)
        return tokens
