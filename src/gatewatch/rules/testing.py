"""Build packs into a folder and let promtool check and unit-test them there."""

import shutil
from pathlib import Path

from gatewatch.rules.packs import load_pack, pack_names, render_pack
from gatewatch.rules.promtool import run_tool

TEST_EXTERNAL_URL = "http://gatewatch.test"


def build_packs(
    out: Path, names: list[str] | None, external_url: str, time_scale: float = 1.0
) -> list[Path]:
    """Write one `<pack>.yml` per pack; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or pack_names():
        path = out / f"{name}.yml"
        path.write_text(render_pack(load_pack(name), external_url, time_scale))
        written.append(path)
    return written


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
