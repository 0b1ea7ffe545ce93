"""Roles given to tokens and users, and the permissions each role grants."""

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
