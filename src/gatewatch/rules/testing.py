"""Build packs into a folder and let promtool check and unit-test them there."""

import shutil
from pathlib import Path

from gatewatch.config.rules import RulesTuning
from gatewatch.model import RulePack
from gatewatch.rules.packs import load_pack, pack_names, render_pack
from gatewatch.rules.promtool import run_tool
from gatewatch.rules.tuned_tests import tuned_tests
from gatewatch.rules.tuning import Change, apply_tuning
from gatewatch.slo.shipped import shipped_slo_packs

TEST_EXTERNAL_URL = "http://gatewatch.test"


def tuned_packs(
    names: list[str] | None, tuning: RulesTuning = RulesTuning()
) -> tuple[list[RulePack], list[Change]]:
    """The packs named with `tuning` applied (all packs and shipped SLOs by default), and
    what it changed."""
    packs, changes = [], []
    for name in names or pack_names():
        pack, changed = apply_tuning(load_pack(name), tuning)
        packs.append(pack)
        changes += changed
    if not names:
        packs += shipped_slo_packs()
    return packs, changes


def write_packs(
    out: Path, packs: list[RulePack], external_url: str, time_scale: float = 1.0
) -> list[Path]:
    """Write one `<pack>.yml` per pack; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for pack in packs:
        path = out / f"{pack.name}.yml"
        path.write_text(render_pack(pack, external_url, time_scale))
        written.append(path)
    return written


def build_packs(
    out: Path,
    names: list[str] | None,
    external_url: str,
    time_scale: float = 1.0,
    tuning: RulesTuning = RulesTuning(),
) -> list[Path]:
    """Write one `<pack>.yml` per pack, tuned (all packs and shipped SLOs by default)."""
    packs, _ = tuned_packs(names, tuning)
    return write_packs(out, packs, external_url, time_scale)


def check_rules(files: list[Path]) -> str:
    return run_tool("promtool", "check", "rules", *map(str, files))


def run_rule_tests(tests: Path, workdir: Path) -> str:
    """Run every `*.test.yml` under `tests` against freshly built packs in `workdir`."""
    build_packs(workdir, None, TEST_EXTERNAL_URL)
    names = []
    for test_file in sorted(tests.glob("*.test.yml")):
        shutil.copy(test_file, workdir / test_file.name)
        names.append(test_file.name)
    if not names:
        return f"no *.test.yml files under {tests}"
    return run_tool("promtool", "test", "rules", *names, cwd=workdir)


def run_tuned_tests(workdir: Path, tuning: RulesTuning) -> tuple[str, list[str]]:
    """Build the packs as `tuning` says and run the tests generated for the tuned alerts;
    returns promtool's report and the tuned alerts no generated test covers."""
    packs, changes = tuned_packs(None, tuning)
    write_packs(workdir, packs, TEST_EXTERNAL_URL)
    files, uncovered = tuned_tests(packs, changes)
    for name, text in files.items():
        (workdir / name).write_text(text)
    if not files:
        return "no tuned alert to test", uncovered
    return run_tool("promtool", "test", "rules", *files, cwd=workdir), uncovered
