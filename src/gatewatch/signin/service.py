"""Console sign-in with sessions kept in the database: the cookie carries a random id, the
row says who it is, so signing out, or removing a user or token from the config, ends the
session at once and on every replica. Failed attempts are rows too: too many for a user or
an address within the window, and sign-in waits."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import Connection

from gatewatch.auth.passwords import hash_password, verify_password
from gatewatch.auth.roles import Principal, Role
from gatewatch.config.auth import AuthConfig
from gatewatch.errors import GatewatchError
from gatewatch.runtime import Runtime
from gatewatch.store import sessions as session_store
from gatewatch.store.database import read_transaction, run_transaction

FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 10
# Checked against when the user is unknown, so a wrong name costs what a wrong password does.
_UNKNOWN_USER_HASH = hash_password(secrets.token_urlsafe(16))


class TooManyAttempts(GatewatchError):
    """Sign-in refused for a while after repeated failures."""


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SignIn:
    def __init__(self, runtime: Runtime, auth: AuthConfig) -> None:
        self._runtime = runtime
        self._auth = auth

    def attempt(
        self, token: str, user: str, password: str, address: str
    ) -> tuple[str, Principal] | None:
        """A new session id and who it is, or None for wrong credentials.
        Raises TooManyAttempts while the user or the address is locked out."""
        now = self._runtime.clock.now()
        keys = [f"address:{address}"] + ([f"user:{user}"] if user and not token else [])
        with read_transaction(self._runtime.database) as connection:
            failures = session_store.failures_since(connection, keys, now - FAILURE_WINDOW)
        if failures >= MAX_FAILURES:
            raise TooManyAttempts(
                "too many failed sign-ins; wait a quarter of an hour or ask an admin"
            )
        principal = self._check(token, user, password)
        if principal is None:
            run_transaction(
                self._runtime.database,
                lambda connection: session_store.record_failure(connection, keys, now),
            )
            return None
        session_id = secrets.token_urlsafe(32)
        expires = now + self._auth.session_lifetime

        def create(connection: Connection) -> None:
            session_store.create(
                connection, _hash(session_id), principal.name, principal.role.value, now, expires
            )
            session_store.forget_failures(connection, now - FAILURE_WINDOW)

        run_transaction(self._runtime.database, create)
        return session_id, principal

    def principal(self, session_id: str) -> Principal | None:
        """Who holds this session, if it is still valid and they are still configured."""
        now = self._runtime.clock.now()
        with read_transaction(self._runtime.database) as connection:
            stored = session_store.get(connection, _hash(session_id))
        if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
            return None
        principal = Principal(stored.name, Role(stored.role))
        return principal if self._configured(principal) else None

    def sign_out(self, session_id: str) -> None:
        now = self._runtime.clock.now()
        run_transaction(
            self._runtime.database,
            lambda connection: session_store.revoke(connection, _hash(session_id), now),
        )

    def _check(self, token: str, user: str, password: str) -> Principal | None:
        """Ingest tokens cannot sign in to the console."""
        if token:
            for entry in self._auth.tokens:
                if entry.role != Role.INGEST and hmac.compare_digest(
                    entry.token.encode(), token.strip().encode()
                ):
                    return Principal(entry.name, entry.role)
            return None
        account = next((a for a in self._auth.users if a.name == user), None)
        stored = account.password_hash if account is not None else _UNKNOWN_USER_HASH
        if verify_password(password, stored) and account is not None:
            return Principal(account.name, account.role)
        return None

    def _configured(self, principal: Principal) -> bool:
        return any(
            t.name == principal.name and t.role == principal.role and t.role != Role.INGEST
            for t in self._auth.tokens
        ) or any(u.name == principal.name and u.role == principal.role for u in self._auth.users)
