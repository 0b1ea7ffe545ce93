"""Run Prometheus's own tools (Debian packages `prometheus`, `prometheus-alertmanager`)."""

import shutil
import subprocess
from pathlib import Path

from gatewatch.errors import GatewatchError

PACKAGES = {"promtool": "prometheus", "amtool": "prometheus-alertmanager"}


class ToolFailed(GatewatchError):
    """promtool or amtool said no (or is missing); the message carries its output."""


def run_tool(tool: str, *args: str, cwd: Path | None = None) -> str:
    if shutil.which(tool) is None:
        raise ToolFailed(
            f"{tool} not found",
            hint=f"install the Debian package {PACKAGES[tool]} (make setup does)",
        )
    result = subprocess.run([tool, *args], capture_output=True, text=True, cwd=cwd, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise ToolFailed(f"{tool} {' '.join(args[:2])} failed:\n{output}")
    return result.stdout.strip()
