"""The import contracts in pyproject.toml hold, and breaking one names the import."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_contracts_are_kept(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_gatewatch_importing_the_gateway_breaks_a_contract_naming_the_import(
    tmp_path: Path,
) -> None:
    tree = _copy(tmp_path)
    faults = tree / "src/gatewatch/drills/faults.py"
    faults.write_text(faults.read_text() + "\nimport imgateway.auth\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "gatewatch.drills.faults -> imgateway.auth" in result.stdout


def test_the_store_importing_the_web_layer_breaks_a_contract(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    outbox = tree / "src/gatewatch/store/outbox.py"
    outbox.write_text(outbox.read_text() + "\nimport gatewatch.web.app\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "gatewatch.store.outbox -> gatewatch.web.app" in result.stdout
