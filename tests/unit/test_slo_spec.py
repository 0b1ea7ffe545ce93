"""SLO specs: Sloth's format accepted as is, budgets exact, factors derived, traps refused."""

from decimal import Decimal

import pytest
import yaml

from gatewatch.rules.packs import render_pack
from gatewatch.slo.generate import PAGE, TICKET, slo_rules
from gatewatch.slo.spec import SloSpec, SloSpecError, parse_specs

SLOTH_EXAMPLE = """
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  repo: "myorg/myservice"
  tier: "2"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="svc",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="svc"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          severity: pageteam
          routing_key: myteam
      ticket_alert:
        labels:
          severity: "slack"
          slack_channel: "#alerts-myteam"
"""


def _one(text: str, source: str) -> SloSpec:
    [spec] = parse_specs(text, source)
    return spec


def test_a_sloth_spec_is_accepted_as_is() -> None:
    spec = _one(SLOTH_EXAMPLE, "sloth.yml")
    rules = yaml.safe_load(render_pack(slo_rules(spec), "http://gw"))
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert [a["labels"]["severity"] for a in alerts] == ["pageteam", "slack"]
    assert (
        alerts[0]["annotations"]["summary"] == "High error rate on 'myservice' requests responses"
    )
    assert "0.0144" in alerts[0]["expr"] and "0.006" in alerts[0]["expr"]


def test_budget_is_exact_decimal() -> None:
    spec = _one(SLOTH_EXAMPLE.replace("99.9", "99.95"), "s.yml")
    assert spec.slos[0].error_budget == Decimal("0.0005")
    text = render_pack(slo_rules(spec), "http://gw")
    assert "0.0072" in text and "99999" not in text


def test_factors_come_from_the_period() -> None:
    assert [w.factor() for w in PAGE + TICKET] == [Decimal("14.4"), 6, 3, 1]
    assert [w.factor(28) for w in PAGE + TICKET] == [
        Decimal("13.44"),
        Decimal("5.6"),
        Decimal("2.8"),
        Decimal("0.9333333333333333333333333333"),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("objective: 99.9", "objective: 100"), "leaves no error budget"),
        (("[{{.window}}]))\n        total", "[5m]))\n        total"), "must use {{.window}}"),
        (('version: "prometheus/v1"', 'version: "v2"'), "version"),
        (("name: MyServiceHighErrorRate", 'name: ""'), "alerting.name is required"),
        (('name: "requests-availability"', 'name: "-requests"'), "slos[0].name"),
    ],
)
def test_bad_specs_name_the_field(change: tuple[str, str], message: str) -> None:
    with pytest.raises(SloSpecError, match=r"sloth\.yml") as raised:
        _one(SLOTH_EXAMPLE.replace(*change), "sloth.yml")
    assert message in str(raised.value)


def test_traffic_floor_needs_event_counts() -> None:
    raw = SLOTH_EXAMPLE.replace(
        """      events:
        error_query: sum(rate(http_requests_total{job="svc",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="svc"}[{{.window}}]))""",
        """      raw:
        error_ratio_query: 1 - avg(avg_over_time(up[{{.window}}]))""",
    ).replace("objective: 99.9\n", "objective: 99.9\n    traffic_floor: 100\n")
    with pytest.raises(SloSpecError, match=r"traffic_floor needs sli\.events"):
        _one(raw, "raw.yml")
