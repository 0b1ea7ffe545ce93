"""The API tokens every test server is configured with, one per role."""

TOKENS = {
    "ingest": "ingest-token-0123456789",
    "viewer": "viewer-token-0123456789",
    "responder": "responder-token-0123456",
    "admin": "admin-token-01234567890",
}
TOKEN_CONFIG = [
    {"name": f"{role}-bot" if role == "ingest" else f"{role}-alice", "role": role, "token": token}
    for role, token in TOKENS.items()
]


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}
