"""Roles given to tokens and users, and the permissions each role grants."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    INGEST = "ingest"
    VIEWER = "viewer"
    RESPONDER = "responder"
    ADMIN = "admin"


class Permission(StrEnum):
    INGEST = "ingest"
    READ = "read"
    RESPOND = "respond"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.INGEST: frozenset({Permission.INGEST}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.RESPONDER: frozenset({Permission.READ, Permission.RESPOND}),
    Role.ADMIN: frozenset(Permission),
}


def may(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


@dataclass(frozen=True)
class Principal:
    """Who is acting: a token's or a user's name, and the role it has."""

    name: str
    role: Role
