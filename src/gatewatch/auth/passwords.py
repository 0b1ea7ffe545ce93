"""Password hashes for the config's users: scrypt (memory-hard, in the standard library),
stored as `scrypt$<n>$<r>$<p>$<salt>$<hash>` so the cost can be raised later."""

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
PREFIX = "scrypt"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"{PREFIX}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def is_password_hash(text: str) -> bool:
    parts = text.split("$")
    return len(parts) == 6 and parts[0] == PREFIX and all(p.isdigit() for p in parts[1:4])


def verify_password(password: str, stored: str) -> bool:
    if not is_password_hash(stored):
        return False
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(
        password.encode(),
        salt=base64.b64decode(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(base64.b64decode(digest)),
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))
