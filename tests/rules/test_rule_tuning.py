"""Tuning the shipped packs from gatewatch.yml (seed 000, "Alert Tuning"): overrides are
checked against what each alert declares, with file:line; the built rules carry them; the
tests generated from the same parameters pass on the tuned rules and fail on the shipped
ones; the CLI prints what was tuned."""

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatewatch.config import ConfigError, GatewatchConfig, parse_config
from gatewatch.rules.packs import tuning_problems
from gatewatch.rules.promtool import ToolFailed, run_tool
from gatewatch.rules.testing import TEST_EXTERNAL_URL, build_packs, run_tuned_tests
from gatewatch.rules.tuning import parse_threshold
from gatewatch.stack.compose import write_compose
from gatewatch.stack.kubernetes import all_manifests
from gatewatch.stack.up import StackPorts, plan_stack
from tests.support.cli import gatewatch

SEED_TUNING = """rules:
  overrides:
    HighMessageDeliveryLatency: {threshold: 1s, for: 10m}
    TooManyActiveConnections: {threshold: 50000}
  disabled: [HighMessageDuplicationRate]
"""


def _tuned(text: str = SEED_TUNING) -> GatewatchConfig:
    return parse_config(text, "gw.yml", {}, checks=(tuning_problems,))


def _alerts(folder: Path, pack: str) -> dict[str, dict[str, Any]]:
    groups = yaml.safe_load((folder / f"{pack}.yml").read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def test_the_built_rules_carry_the_overrides(tmp_path: Path) -> None:
    build_packs(tmp_path, None, TEST_EXTERNAL_URL, tuning=_tuned().rules)
    alerts = _alerts(tmp_path, "im-gateway")
    latency = alerts["HighMessageDeliveryLatency"]
    assert latency["expr"] == "instance:im_gateway_delivery_latency_seconds:p99_5m > 1"
    assert latency["for"] == "10m"
    assert "(threshold 1s) for 10 minutes" in latency["annotations"]["description"]
    connections = alerts["TooManyActiveConnections"]
    assert connections["expr"] == "im_gateway_active_connections > 50000"
    assert connections["for"] == "5m"
    assert "(threshold 50k)" in connections["annotations"]["description"]
    assert "HighMessageDuplicationRate" not in alerts
    assert "SUCCESS" in run_tool("promtool", "check", "rules", str(tmp_path / "im-gateway.yml"))


def test_windows_and_labels_are_tuned_too(tmp_path: Path) -> None:
    tuning = _tuned(
        "rules:\n  overrides:\n"
        "    MySQLHighConnectionErrors: {threshold: 3, window: 10m, labels: {team: dba}}\n"
    ).rules
    build_packs(tmp_path, ["im-gateway"], TEST_EXTERNAL_URL, tuning=tuning)
    mysql = _alerts(tmp_path, "im-gateway")["MySQLHighConnectionErrors"]
    assert mysql["expr"] == (
        "sum by (instance) (rate(mysql_global_status_connection_errors_total[10m])) > 3"
    )
    assert mysql["labels"] == {"severity": "warning", "team": "dba", "service": "mysql"}


def test_generated_tests_pass_on_the_tuned_rules_and_fail_on_the_shipped(
    tmp_path: Path,
) -> None:
    tuning = _tuned().rules
    report, uncovered = run_tuned_tests(tmp_path / "tuned", tuning)
    assert report.count("SUCCESS") == 1 and uncovered == []
    # The same tests against the packs as shipped: the thresholds they probe are not there.
    shipped = tmp_path / "shipped"
    build_packs(shipped, None, TEST_EXTERNAL_URL)
    shutil.copy(tmp_path / "tuned" / "tuned-im-gateway.test.yml", shipped)
    with pytest.raises(ToolFailed) as failed:
        run_tool("promtool", "test", "rules", "tuned-im-gateway.test.yml", cwd=shipped)
    assert "HighMessageDeliveryLatency" in str(failed.value)
    assert "TooManyActiveConnections" in str(failed.value)


def test_wrong_overrides_are_named_with_file_and_line() -> None:
    with pytest.raises(ConfigError) as caught:
        _tuned(
            """rules:
  overrides:
    HighMessageDeliveryLatency: {threshold: 1000}
    TooManyActiveConnections: {threshold: 5%, window: 10m}
    NoSuchAlert: {for: 1m}
    LowCacheHitRate: {threshold: 50}
    IMGatewayServiceDown: {threshold: 1}
  disabled: [Nope]
"""
        )
    issues = [str(issue) for issue in caught.value.issues]
    assert issues == [
        "gw.yml:3: rules.overrides.HighMessageDeliveryLatency.threshold: "
        "HighMessageDeliveryLatency: the threshold is a duration: write it with its unit, "
        "e.g. 500ms or 1s",
        "gw.yml:4: rules.overrides.TooManyActiveConnections.threshold: "
        "TooManyActiveConnections: the threshold is a count such as 50000, not '5%'",
        "gw.yml:4: rules.overrides.TooManyActiveConnections.window: "
        "TooManyActiveConnections has no range selector of its own to tune",
        "gw.yml:5: rules.overrides.NoSuchAlert: no pack has an alert 'NoSuchAlert'",
        "gw.yml:6: rules.overrides.LowCacheHitRate.threshold: LowCacheHitRate: "
        "the threshold is a ratio from 0 to 1 (or a percentage), not 50",
        "gw.yml:7: rules.overrides.IMGatewayServiceDown.threshold: "
        "IMGatewayServiceDown has no threshold to tune",
        "gw.yml:8: rules.disabled[0]: no pack has an alert 'Nope'",
    ]


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("500ms", "seconds", 0.5),
        ("1m", "seconds", 60.0),
        ("5%", "ratio", 0.05),
        (0.05, "ratio", 0.05),
        ("85%", "percent", 85.0),
        (85, "percent", 85.0),
        (50000, "count", 50000.0),
        ("10/s", "per_second", 10.0),
    ],
)
def test_thresholds_are_read_in_the_alert_s_unit(
    value: float | str, unit: str, expected: float
) -> None:
    assert parse_threshold(value, unit) == pytest.approx(expected)


def test_rules_build_prints_what_was_tuned(tmp_path: Path) -> None:
    config = tmp_path / "gatewatch.yml"
    config.write_text(SEED_TUNING)
    built = gatewatch("rules", "build", "--config", str(config), "--out", str(tmp_path / "out"))
    assert built.returncode == 0, built.stderr
    rows = [line for line in built.stdout.splitlines() if "│" in line]
    assert [[cell.strip() for cell in row.split("│")[1:-1]] for row in rows] == [
        ["HighMessageDeliveryLatency", "threshold", "500ms", "1s"],
        ["HighMessageDeliveryLatency", "for", "5m", "10m"],
        ["TooManyActiveConnections", "threshold", "100k", "50k"],
        ["HighMessageDuplicationRate", "enabled", "yes", "no (disabled)"],
    ]
    tested = gatewatch("rules", "test", "--config", str(config), cwd=Path(__file__).parents[2])
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "tuned-im-gateway.test.yml" in tested.stdout


def test_compose_manifests_and_up_build_the_tuned_rules(tmp_path: Path) -> None:
    tuning = _tuned().rules
    tuned_expr = "im_gateway_active_connections > 50000"
    write_compose(tmp_path / "compose", tuning)
    assert _alerts(tmp_path / "compose" / "rules", "im-gateway")["TooManyActiveConnections"][
        "expr"
    ] == (tuned_expr)
    rule_object = yaml.safe_load(
        all_manifests("http://gw:8787", "monitoring", tuning=tuning)[
            "prometheusrule-im-gateway.yaml"
        ]
    )
    [connections] = [
        rule
        for group in rule_object["spec"]["groups"]
        for rule in group["rules"]
        if rule.get("alert") == "TooManyActiveConnections"
    ]
    assert connections["expr"] == tuned_expr
    plan_stack(tmp_path / "up", StackPorts.free(), 1.0, False, tuning)
    assert _alerts(tmp_path / "up" / "rules", "im-gateway")["TooManyActiveConnections"]["expr"] == (
        tuned_expr
    )
