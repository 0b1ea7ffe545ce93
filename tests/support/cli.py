"""Running the `gatewatch` command as a user would, in a clean environment."""

import subprocess
import sys
from pathlib import Path


def gatewatch(
    *args: str, token: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(cwd or Path.cwd())}
    if token:
        env["GATEWATCH_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "gatewatch", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )
