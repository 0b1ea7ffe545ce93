"""Drill files are validated like config (file:line, key), and deadlines come from what the
stack really runs."""

from pathlib import Path

import pytest

from gatewatch.config import ConfigError, load_config
from gatewatch.config.rules import AlertOverride
from gatewatch.drills.scenario import load_scenarios, parse_scenario, stack_tuning
from gatewatch.drills.timing import StackTimings
from gatewatch.errors import GatewatchError
from gatewatch.stack.up import StackPorts, plan_stack
from tests.support.drills import REQUIRED


def test_shipped_drills_cover_every_required_fault() -> None:
    drills = load_scenarios([])
    assert [d.name for d in drills] == REQUIRED
    faults = {d.name: d.steps[0].inject for d in drills}
    assert faults["latency"].request == "POST /test/latency?delay=600ms"  # type: ignore[union-attr]
    assert faults["loss"].request == "POST /test/failure-rate?rate=0.02"  # type: ignore[union-attr]
    assert faults["gateway-down"].stop == "gateway"  # type: ignore[union-attr]
    escalation = next(d for d in drills if d.name == "escalation")
    assert [s.expect_page.person for s in escalation.steps if s.expect_page] == ["alice", "bob"]


def test_named_drills_come_in_the_order_given() -> None:
    assert [d.name for d in load_scenarios(["loss", "latency"])] == ["loss", "latency"]
    with pytest.raises(ConfigError, match="no drill named nope; known: latency"):
        load_scenarios(["nope"])


BAD = """\
name: broken
summary: steps that cannot run
alert: HighMessageLossRate
steps:
  - inject: {request: "POST /test/failure-rate?rate=0.02"}
  - expect_alert: firing
    acknowledge: alice
  - expect_alert: burning
  - inject: {request: "launch missiles"}
  - clear: faults
"""


def test_bad_steps_are_named_with_their_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_scenario(BAD, "broken.yml")
    lines = str(caught.value).splitlines()
    assert any(
        line.startswith("broken.yml:6: steps[1]") and "exactly one" in line for line in lines
    )
    assert any(line.startswith("broken.yml:8: steps[2].expect_alert") for line in lines)
    assert any(line.startswith("broken.yml:9: steps[3].inject") for line in lines)


def test_a_drill_must_clear_what_it_injects() -> None:
    text = (
        BAD.split("steps:")[0] + "steps:\n  - inject: {stop: gateway}\n  - expect_alert: firing\n"
    )
    with pytest.raises(ConfigError, match="clears its faults"):
        parse_scenario(text, "x.yml")


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"x.yml:2: invalid YAML"):
        parse_scenario("name: a\nsteps: [inject: {request: POST /x?y}\n", "x.yml")


def test_deadlines_follow_the_time_scaled_stack(tmp_path: Path) -> None:
    plan_stack(tmp_path, StackPorts.free(), 60, demo=True)
    timings = StackTimings(tmp_path, load_config(tmp_path / "gatewatch.yml", {}))
    assert timings.scrape == 1.0
    latency = timings.alert("HighMessageDeliveryLatency", {})
    assert (latency.hold, latency.window, latency.evaluation) == (5.0, 5.0, 1.0)
    down = timings.alert("IMGatewayServiceDown", {})
    assert (down.hold, down.window) == (1.0, 0.0)
    assert timings.route({"alertname": "X", "severity": "warning"}).group_wait == 0.5
    assert timings.route({"alertname": "X", "severity": "critical"}).group_interval == 5.0
    on_call = {"im-primary": ["alice"], "im-secondary": ["bob"]}
    assert timings.page_after("page-now", "alice", on_call) == 0.0
    assert timings.page_after("page-now", "bob", on_call) == 15.0
    assert timings.page_after("page-now", "dana", on_call) == 30.0
    with pytest.raises(GatewatchError, match="never pages"):
        timings.page_after("page-p1", "dana", on_call)
    with pytest.raises(GatewatchError, match="no alert rule Nope"):
        timings.alert("Nope", {})


def test_a_drill_tunes_the_packs_it_needs_and_wrong_tuning_names_its_line() -> None:
    [connections] = load_scenarios(["too-many-connections"])
    assert connections.rules.overrides["TooManyActiveConnections"].threshold == 150
    assert connections.steps[0].inject is not None
    assert connections.steps[0].inject.connections == 200
    text = BAD.split("steps:")[0] + (
        "rules:\n  overrides:\n    TooManyActiveConnections: {threshold: 1s}\n"
        "steps:\n  - inject: {connections: 10}\n  - clear: faults\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_scenario(text, "x.yml")
    assert str(caught.value.issues[0]).startswith(
        "x.yml:6: rules.overrides.TooManyActiveConnections.threshold: TooManyActiveConnections: "
        "the threshold is a count"
    )


def test_drills_sharing_a_stack_may_not_tune_one_alert_two_ways() -> None:
    shipped = load_scenarios([])
    assert stack_tuning(shipped).overrides == {
        "TooManyActiveConnections": AlertOverride(threshold=150)
    }
    other = parse_scenario(
        BAD.split("steps:")[0]
        + "rules: {overrides: {TooManyActiveConnections: {threshold: 99}}}\n"
        + "steps:\n  - inject: {connections: 10}\n  - clear: faults\n",
        "other.yml",
    )
    with pytest.raises(GatewatchError, match="drills too-many-connections and broken tune"):
        stack_tuning([*shipped, other])
