"""The configs `gatewatch up` writes come from the same pure generators as `gatewatch compose`
(whose output is pinned in deploy/docker-compose); these golden files pin `up`'s, with the
data folder and the generated secrets replaced by placeholders.

Regenerate after an intended change:
    GATEWATCH_UPDATE_GOLDEN=1 pytest tests/rules/test_stack_configs.py
"""

import os
from pathlib import Path

import pytest

from gatewatch.stack.up import RUNBOOKS, StackPorts, plan_stack

GOLDEN = Path(__file__).parent / "golden"
SECRETS = ("ingest.token", "admin.token", "slack-signing.secret", "gateway-jwt.secret")
FILES = ("prometheus.yml", "alertmanager.yml", "gatewatch.yml")


def _normalized(data: Path, name: str) -> str:
    text = (data / name).read_text()
    for secret in SECRETS:
        path = data / secret
        if path.exists():
            text = text.replace(path.read_text().strip(), f"<{secret}>")
    return text.replace(str(RUNBOOKS.resolve()), "<runbooks>").replace(str(data), "<data>")


@pytest.mark.parametrize(("time_scale", "demo"), [(1.0, False), (60.0, True)])
@pytest.mark.parametrize("name", FILES)
def test_up_writes_the_pinned_configs(
    tmp_path: Path, time_scale: float, demo: bool, name: str
) -> None:
    data = tmp_path / "stack"
    plan_stack(data, StackPorts(), time_scale, demo)
    golden = GOLDEN / f"up-{'demo-' if demo else ''}x{time_scale:g}-{name}"
    fresh = _normalized(data.resolve(), name)
    if os.environ.get("GATEWATCH_UPDATE_GOLDEN"):
        golden.write_text(fresh)
    assert fresh == golden.read_text(), f"regenerate {golden.name} (see this file's docstring)"


def test_secrets_are_made_once_and_kept_private(tmp_path: Path) -> None:
    plan_stack(tmp_path, StackPorts(), 60.0, demo=True)
    first = {name: (tmp_path / name).read_text() for name in SECRETS}
    plan_stack(tmp_path, StackPorts(), 60.0, demo=True)
    assert {name: (tmp_path / name).read_text() for name in SECRETS} == first
    for name in (*SECRETS, "gatewatch.yml", "alertmanager.yml"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
