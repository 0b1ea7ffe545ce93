"""Specs Sloth accepts are accepted as they are (issue 14, part 1): several specs in one
file, SLOs without alerts, numeric label values, dotted SLO names, any alert name, Go
template spacing; specs of one service add up instead of overwriting each other; an SLO id
defined twice and plugin SLIs are refused by name. Each rule file passes promtool."""

from pathlib import Path

import pytest
import yaml

from gatewatch.rules.packs import render_pack
from gatewatch.rules.promtool import run_tool
from gatewatch.slo.generate import slo_packs
from gatewatch.slo.shipped import specs_from
from gatewatch.slo.spec import SloSpecError, parse_specs
from tests.support.cli import gatewatch


def _spec(service: str, slo: str, alerting: str = "", labels: str = "", window: str = "") -> str:
    window = window or "{{.window}}"
    return f"""version: "prometheus/v1"
service: "{service}"
labels:
  owner: team-a
{labels}slos:
  - name: "{slo}"
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{{job="{service}",code=~"5.."}}[{window}]))
        total_query: sum(rate(http_requests_total{{job="{service}"}}[{window}]))
{alerting}"""


ALERTS = """    alerting:
      name: {name}
      page_alert:
        labels: {{severity: critical}}
      ticket_alert:
        labels: {{severity: warning}}
"""
NO_ALERTS = """    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _rules(tmp_path: Path, *files: Path) -> dict[str, list[dict]]:
    """Rule file name -> its rules, each file also checked by promtool."""
    found = {}
    for pack in slo_packs(specs_from(list(files))):
        out = tmp_path / f"{pack.name}.yml"
        out.write_text(render_pack(pack, "http://gw"))
        assert "SUCCESS" in run_tool("promtool", "check", "rules", str(out))
        groups = yaml.safe_load(out.read_text())["groups"]
        found[pack.name] = [rule for group in groups for rule in group["rules"]]
    return found


def test_what_sloth_accepts_is_accepted(tmp_path: Path) -> None:
    multi = _write(
        tmp_path,
        "multi.yml",
        "---\n"
        + _spec("checkout", "requests.availability", ALERTS.format(name="checkout-high-errors"))
        + "---\n"
        + _spec(
            "search",
            "latency",
            NO_ALERTS,
            labels="  tier: 2\n  critical: true\n",
            window="{{ .window}}",
        ),
    )
    rules = _rules(tmp_path, multi)
    assert set(rules) == {"slo-checkout", "slo-search"}
    alerts = [r for r in rules["slo-checkout"] if "alert" in r]
    assert [a["alert"] for a in alerts] == ["checkout-high-errors"] * 2
    assert 'sloth_id="checkout-requests.availability"' in alerts[0]["expr"]
    search = rules["slo-search"]
    assert not [r for r in search if "alert" in r]
    five_minutes = next(r for r in search if r["record"] == "slo:sli_total:rate5m")
    assert five_minutes["expr"] == 'sum(rate(http_requests_total{job="search"}[5m]))'
    assert five_minutes["labels"]["tier"] == "2" and five_minutes["labels"]["critical"] == "true"


def test_specs_of_one_service_add_up_and_an_slo_twice_is_refused(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.yml", _spec("api", "availability", NO_ALERTS))
    second = _write(tmp_path, "b.yml", _spec("api", "latency", NO_ALERTS))
    rules = _rules(tmp_path, first, second)
    assert {r["labels"]["sloth_slo"] for r in rules["slo-api"]} == {"availability", "latency"}
    again = _write(tmp_path, "c.yml", _spec("api", "latency", NO_ALERTS))
    with pytest.raises(SloSpecError, match=r"'api-latency' is defined twice: in .*b\.yml and in"):
        slo_packs(specs_from([first, second, again]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                "      events:",
                "      plugin:\n        id: sloth-common/availability\n      events:",
            ),
            "SLI plugins are not supported ('sloth-common/availability')",
        ),
        (
            ("slos:", "slo_plugins:\n  chain:\n    - id: team/sli-plugin\nslos:"),
            "SLO plugins are not supported ('team/sli-plugin')",
        ),
        (
            ("    alerting:\n      page_alert: {disable: true}\n", "    alerting:\n"),
            "alerting.name is required",
        ),
        (("[{{.window}}]))\n        total", "[5m]))\n        total"), "must use {{.window}}"),
    ],
)
def test_what_sloth_refuses_is_refused_by_name(change: tuple[str, str], message: str) -> None:
    text = _spec("api", "availability", NO_ALERTS).replace(*change)
    with pytest.raises(SloSpecError, match=r"spec\.yml") as raised:
        parse_specs(text, "spec.yml")
    assert message in str(raised.value)


def test_slo_validate_checks_without_writing(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.yml", _spec("api", "availability", NO_ALERTS))
    checked = gatewatch("slo", "validate", str(good), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "ok 1 specs, 1 SLOs, 1 services (api)" in checked.stdout
    twice = _write(tmp_path, "twice.yml", _spec("api", "availability", NO_ALERTS))
    refused = gatewatch("slo", "validate", str(good), str(twice), cwd=tmp_path)
    assert refused.returncode == 1
    assert "'api-availability' is defined twice" in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.yml", "twice.yml"]
