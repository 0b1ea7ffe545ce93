"""`gatewatch rules build|check|test`: the rule packs as files, checked by promtool."""

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from gatewatch.cli_common import ConfigOption, fail, out
from gatewatch.config import load_config
from gatewatch.errors import GatewatchError
from gatewatch.rules.packs import pack_names
from gatewatch.rules.testing import build_packs, check_rules, run_rule_tests

rules_app = typer.Typer(
    help="Alert rule packs: build, check and unit-test with promtool.", no_args_is_help=True
)
PackOption = Annotated[
    list[str] | None,
    typer.Option(
        "--pack", help=f"Pack to build (repeatable); default all: {', '.join(pack_names())}"
    ),
]
ScaleOption = Annotated[
    float,
    typer.Option(
        min=1.0, help="Divide every `for`, range and interval by N (drills: 60 turns 5m into 5s)"
    ),
]


def _external_url(config: Path | None) -> str:
    return load_config(config, os.environ).external_url


@rules_app.command("build")
def build(
    pack: PackOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the rule files")] = Path(
        "build/rules"
    ),
    time_scale: ScaleOption = 1.0,
    config: ConfigOption = None,
) -> None:
    """Write Prometheus rule files, runbook links pointing at this gatewatch."""
    try:
        files = build_packs(out_dir, pack, _external_url(config), time_scale)
    except GatewatchError as exc:
        fail(exc)
    for path in files:
        out.print(f"wrote {path}")


@rules_app.command("check")
def check(
    pack: PackOption = None, time_scale: ScaleOption = 1.0, config: ConfigOption = None
) -> None:
    """Build the packs and run `promtool check rules` on them."""
    with tempfile.TemporaryDirectory(prefix="gatewatch-rules-") as temp:
        try:
            files = build_packs(Path(temp), pack, _external_url(config), time_scale)
            out.print(check_rules(files))
        except GatewatchError as exc:
            fail(exc)


@rules_app.command("test")
def test(
    tests: Annotated[Path, typer.Option(help="Folder of promtool *.test.yml files")] = Path(
        "tests/rules"
    ),
) -> None:
    """Run the promtool unit tests of every pack."""
    with tempfile.TemporaryDirectory(prefix="gatewatch-rules-") as temp:
        try:
            out.print(run_rule_tests(tests, Path(temp)))
        except GatewatchError as exc:
            fail(exc)
