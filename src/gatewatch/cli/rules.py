"""`gatewatch rules build|check|test`: the rule packs as files, checked by promtool."""

import json
import tempfile
from pathlib import Path
from typing import Annotated

import httpx
import typer

from gatewatch.cli.common import ConfigOption, fail, out, read_config, titled_table
from gatewatch.errors import GatewatchError
from gatewatch.rules.alertmanager_config import render_alertmanager_config
from gatewatch.rules.packs import pack_names
from gatewatch.rules.runbook_index import runbook_index
from gatewatch.rules.testing import (
    build_packs,
    check_rules,
    run_rule_tests,
    run_tuned_tests,
    tuned_packs,
    write_packs,
)
from gatewatch.rules.tuning import Change
from gatewatch.slo.generate import slo_packs
from gatewatch.slo.shipped import shipped_slo_packs, shipped_specs, specs_from
from gatewatch.slo.status import NO_DATA, slo_status
from gatewatch.stack.kubernetes import DEFAULT_IMAGE, all_manifests

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


@rules_app.command("build")
def build(
    pack: PackOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the rule files")] = Path(
        "build/rules"
    ),
    time_scale: ScaleOption = 1.0,
    config: ConfigOption = None,
) -> None:
    """Write Prometheus rule files, tuned by the config's `rules:` section, runbook links
    pointing at this gatewatch."""
    try:
        settings = read_config(config)
        packs, changes = tuned_packs(pack, settings.rules)
        files = write_packs(out_dir, packs, settings.external_url, time_scale)
    except GatewatchError as exc:
        fail(exc)
    for path in files:
        out.print(f"wrote {path}")
    _print_changes(changes)


def _print_changes(changes: list[Change]) -> None:
    if not changes:
        return
    table = titled_table("tuned by the config", "alert", "parameter", "shipped", "built")
    for change in changes:
        table.add_row(change.alert, change.parameter, change.before, change.after)
    out.print(table)


@rules_app.command("check")
def check(
    pack: PackOption = None, time_scale: ScaleOption = 1.0, config: ConfigOption = None
) -> None:
    """Build the packs (tuned) and run `promtool check rules` on them."""
    with tempfile.TemporaryDirectory(prefix="gatewatch-rules-") as temp:
        try:
            settings = read_config(config)
            files = build_packs(Path(temp), pack, settings.external_url, time_scale, settings.rules)
            out.print(check_rules(files))
        except GatewatchError as exc:
            fail(exc)


@rules_app.command("test")
def test(
    tests: Annotated[Path, typer.Option(help="Folder of promtool *.test.yml files")] = Path(
        "tests/rules"
    ),
    config: ConfigOption = None,
) -> None:
    """Run the promtool unit tests of every pack as shipped; with a config that tunes them,
    also the tests generated for the tuned alerts, against the tuned rules."""
    try:
        tuning = read_config(config).rules
        with tempfile.TemporaryDirectory(prefix="gatewatch-rules-") as temp:
            out.print(run_rule_tests(tests, Path(temp)))
        if tuning.overrides or tuning.disabled:
            with tempfile.TemporaryDirectory(prefix="gatewatch-tuned-") as temp:
                report, uncovered = run_tuned_tests(Path(temp), tuning)
                out.print(report)
            if uncovered:
                out.print(
                    "[yellow]not covered by a generated test[/] (checked by promtool only): "
                    + ", ".join(uncovered)
                )
    except GatewatchError as exc:
        fail(exc)


def alertmanager_config_command(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here (mode 0600)")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="Ingest token for the webhook; default: the first ingest token in the config"
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write the alertmanager.yml that routes like the seeds and delivers to gatewatch."""
    try:
        settings = read_config(config)
    except GatewatchError as exc:
        fail(exc)
    if token is None:
        token = next((t.token for t in settings.auth.tokens if t.role.value == "ingest"), None)
    if token is None:
        fail(
            GatewatchError(
                "no ingest token to put in the webhook",
                hint="add an auth.tokens entry with role ingest, or pass --token",
            )
        )
    text = render_alertmanager_config(
        settings.external_url, token, fallback=settings.fallback.receiver()
    )
    if out_file is None:
        typer.echo(text, nl=False)
        return
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.touch(mode=0o600)
    out_file.write_text(text)
    out.print(f"wrote {out_file}")


def manifests_command(
    out_dir: Annotated[Path, typer.Option("--out")] = Path("deploy/kubernetes"),
    namespace: str = "monitoring",
    external_url: Annotated[str, typer.Option(help="gatewatch's URL as the cluster sees it")] = (
        "http://gatewatch.monitoring.svc:8787"
    ),
    image: Annotated[str, typer.Option(help="gatewatch's image (deploy/Dockerfile)")] = (
        DEFAULT_IMAGE
    ),
    config: ConfigOption = None,
) -> None:
    """Write PrometheusRule objects for every pack (tuned by the config's `rules:`), the
    Alertmanager config Secret, and gatewatch's own workload (Deployment, Service,
    PodDisruptionBudget, migration Job, ConfigMap, Secret, ServiceMonitor) and the Grafana
    dashboards as ConfigMaps for the Grafana sidecar."""
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        files = all_manifests(external_url, namespace, image, read_config(config).rules)
    except GatewatchError as exc:
        fail(exc)
    for name, text in files.items():
        (out_dir / name).write_text(text)
        out.print(f"wrote {out_dir / name}")


@rules_app.command("runbooks")
def runbooks(
    out_file: Annotated[Path, typer.Option("--out")] = Path("runbooks/index.md"),
) -> None:
    """Write the index of runbook slugs every alert links to."""
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(runbook_index(out_file.parent))
    out.print(f"wrote {out_file}")


slo_app = typer.Typer(
    help="SLOs: Sloth prometheus/v1 specs into recording and burn-rate rules.", no_args_is_help=True
)


@slo_app.command("build")
def slo_build(
    specs: Annotated[
        list[Path] | None,
        typer.Argument(help="Sloth prometheus/v1 spec files; default: the SLOs gatewatch ships"),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out")] = Path("build/rules"),
    time_scale: ScaleOption = 1.0,
    config: ConfigOption = None,
) -> None:
    """Write the SLO rules (5m to 30d error ratios, page and ticket burn-rate alerts)."""
    try:
        external_url = read_config(config).external_url
        packs = slo_packs(specs_from(specs)) if specs else shipped_slo_packs()
        files = write_packs(out_dir, packs, external_url, time_scale)
        for path in files:
            out.print(f"wrote {path}")
        out.print(check_rules(files))
    except GatewatchError as exc:
        fail(exc)


@slo_app.command("validate")
def slo_validate(
    specs: Annotated[list[Path], typer.Argument(help="Sloth prometheus/v1 spec files")],
) -> None:
    """Check specs as `sloth validate` does, and SLO ids unique across them; writes nothing."""
    try:
        loaded = specs_from(specs)
        packs = slo_packs(loaded)
    except GatewatchError as exc:
        fail(exc)
    slos = sum(len(spec.slos) for spec in loaded)
    out.print(
        f"[green]ok[/] {len(loaded)} specs, {slos} SLOs, {len(packs)} services "
        f"({', '.join(pack.name.removeprefix('slo-') for pack in packs)})"
    )


@slo_app.command("status")
def slo_status_command(
    specs: Annotated[
        list[Path] | None, typer.Argument(help="Spec files; default: the SLOs gatewatch ships")
    ] = None,
    prometheus: Annotated[
        str | None, typer.Option(help="Prometheus URL; default: prometheus.url from the config")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    config: ConfigOption = None,
) -> None:
    """Objective, SLI over the period, error budget left, burn rates, and a verdict per SLO."""
    try:
        url = prometheus or read_config(config).prometheus.url
        loaded = specs_from(specs) if specs else shipped_specs()
        with httpx.Client(timeout=10) as http:
            statuses = slo_status(url, loaded, http)
    except GatewatchError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps([s.to_json() for s in statuses], indent=2))
        return
    table = titled_table(
        f"SLOs at {url}",
        "service",
        "slo",
        "objective",
        "SLI (30d)",
        "budget left",
        "burn 1h",
        "burn 6h",
        "burn 3d",
        "status",
    )
    colours = {
        "Healthy": "green",
        "Warning": "yellow",
        "Critical": "red",
        "Exhausted": "bold red",
        NO_DATA: "dim",
        "misconfigured": "magenta",
    }

    def percent(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value * 100:.{digits}f}%"

    def burn(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}x"

    for item in statuses:
        table.add_row(
            item.service,
            item.slo,
            percent(item.objective, 3),
            percent(item.sli, 3),
            percent(item.error_budget_remaining, 1),
            burn(item.burn_rates["1h"]),
            burn(item.burn_rates["6h"]),
            burn(item.burn_rates["3d"]),
            f"[{colours[item.status]}]{item.status}[/]",
        )
    out.print(table)
    for item in statuses:
        for problem in item.problems:
            out.print(f"[magenta]{item.service}/{item.slo}:[/] {problem}")
