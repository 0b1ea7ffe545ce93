"""Files holding secrets (tokens, signing keys, configs with both): owner-only from the start."""

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write `text` readable by the owner only from the first byte (never 0644, then chmod)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.chmod(0o600)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
