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


# -- firing times: the windows alerts read are Sloth's plain rate() over the window ----------

PAGE_SPEC = """version: "prometheus/v1"
service: "checkout"
slos:
  - name: "requests"
    objective: 99.9
    sli:
      {sli}
    alerting:
      name: CheckoutBudgetBurn
      ticket_alert: {{disable: true}}
"""
EVENTS = """events:
        error_query: sum(rate(errors_total[{{.window}}]))
        total_query: sum(rate(requests_total[{{.window}}]))"""
RAW = """raw:
        error_ratio_query: |
          sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{.window}}]))"""
# 100 requests a minute; from minute 370 (every window full) to minute 390, 10 of them fail:
# 10 %, 100x the 0.1 % budget. Sloth's page alert is (14.4x over 5m and 1h) or (6x over 30m
# and 6h); the 6h window never passes 6 x 0.1 % (200 errors in 36 000). It starts once the 1h
# window's ratio passes 1.44 %: 10 x (t - 370) / 6000 > 0.0144, at t = 378.6 min. It ends
# once the 5m window holds no error (from minute 394). Long windows built from 5m rates would
# lag the start by about 2.5 min (past minute 380).
SERIES = [
    {"series": "requests_total", "values": "0+100x420"},
    {"series": "errors_total", "values": "0x370 10+10x19 200x30"},
]
FIRING = 'count(ALERTS{alertname="CheckoutBudgetBurn", alertstate="firing"})'


def _assert_sloth_s_page_times(
    tmp_path: Path, files: list[Path], alert: str, series: list[dict[str, str]]
) -> None:
    """The burst above, fed to the rules built from `files`: `alert` pages from between
    minutes 378 and 380 to between 393 and 395, as Sloth's does."""
    rule_files = []
    for pack in slo_packs(specs_from(files)):
        (tmp_path / f"{pack.name}.yml").write_text(render_pack(pack, "http://gw"))
        rule_files.append(f"{pack.name}.yml")
    firing = f'count(ALERTS{{alertname="{alert}", alertstate="firing"}})'
    checks = [("378m", False), ("380m", True), ("393m", True), ("395m", False)]
    test = {
        "rule_files": rule_files,
        "evaluation_interval": "30s",
        "tests": [
            {
                "interval": "1m",
                "input_series": series,
                "promql_expr_test": [
                    {
                        "expr": firing,
                        "eval_time": at,
                        "exp_samples": [{"labels": "{}", "value": 1}] if fires else [],
                    }
                    for at, fires in checks
                ],
            }
        ],
    }
    (tmp_path / "firing.test.yml").write_text(yaml.safe_dump(test))
    assert "SUCCESS" in run_tool("promtool", "test", "rules", "firing.test.yml", cwd=tmp_path)


@pytest.mark.parametrize("sli", [EVENTS, RAW], ids=["events", "raw"])
def test_the_page_alert_fires_and_ends_when_sloth_s_does(tmp_path: Path, sli: str) -> None:
    spec = _write(tmp_path, "checkout.yml", PAGE_SPEC.format(sli=sli))
    _assert_sloth_s_page_times(tmp_path, [spec], "CheckoutBudgetBurn", SERIES)


def _burst(metric: str, error: str, ok: str) -> list[dict[str, str]]:
    """SERIES's burst as two series of one counter: `error`-labelled and `ok`-labelled."""
    return [
        {"series": f"{metric}{{{ok}}}", "values": "0+100x370 37090+90x19 38900+100x29"},
        {"series": f"{metric}{{{error}}}", "values": "0x370 10+10x19 200x30"},
    ]


HTTP_BURST = _burst("http_requests_total", 'job="checkout",code="500"', 'job="checkout",code="200"')
PAGE_ONLY = ALERTS.replace(
    "ticket_alert:\n        labels: {{severity: warning}}", "ticket_alert: {{disable: true}}"
)


def _checkout(name: str, alerting: str, window: str = "") -> str:
    return _spec("checkout", name, alerting, window=window).replace("99.5", "99.9")


def test_every_accepted_form_pages_when_sloth_does(tmp_path: Path) -> None:
    """Each case Sloth accepts and gatewatch once refused or mishandled, with the burst:
    several specs in one file with a dotted SLO name, a dashed alert name and Go template
    spacing; two spec files of one service; the Kubernetes form."""
    cases = {
        "multi-document": (
            [
                _write(
                    tmp_path,
                    "multi.yml",
                    "---\n"
                    + _checkout("requests.availability", PAGE_ONLY.format(name="checkout-errors"))
                    + "---\n"
                    + _spec("search", "latency", NO_ALERTS, window="{{ .window}}"),
                )
            ],
            "checkout-errors",
            HTTP_BURST,
        ),
        "go-template-spacing": (
            [
                _write(
                    tmp_path,
                    "spaced.yml",
                    _checkout("requests", PAGE_ONLY.format(name="Spaced"), "{{ .window }}"),
                )
            ],
            "Spaced",
            HTTP_BURST,
        ),
        "one-service-two-files": (
            [
                _write(tmp_path, "a.yml", _checkout("availability", PAGE_ONLY.format(name="A"))),
                _write(tmp_path, "b.yml", _checkout("latency", NO_ALERTS)),
            ],
            "A",
            HTTP_BURST,
        ),
        "kubernetes": (
            [_write(tmp_path, "k8s.yml", KUBERNETES)],
            "PaymentsChargeErrors",
            _burst("charges_total", 'outcome="error"', 'outcome="ok"'),
        ),
    }
    for case, (files, alert, series) in cases.items():
        folder = tmp_path / case
        folder.mkdir()
        _assert_sloth_s_page_times(folder, files, alert, series)


def test_sloth_s_info_series_and_window_labels_are_there(tmp_path: Path) -> None:
    spec = _write(tmp_path, "checkout.yml", PAGE_SPEC.format(sli=EVENTS))
    [pack] = slo_packs(specs_from([spec]))
    rules = [rule for group in pack.groups for rule in group["rules"]]
    [info] = [rule for rule in rules if rule.get("record") == "sloth_slo_info"]
    assert info["labels"] | {"sloth_version": "-"} == {
        "sloth_id": "checkout-requests",
        "sloth_service": "checkout",
        "sloth_slo": "requests",
        "sloth_mode": "cli-gen-prom",
        "sloth_objective": "99.9",
        "sloth_spec": "prometheus/v1",
        "sloth_version": "-",
    }
    windows = {
        rule["record"].removeprefix("slo:sli_error:ratio_rate"): rule["labels"]["sloth_window"]
        for rule in rules
        if rule.get("record", "").startswith("slo:sli_error:ratio_rate")
    }
    assert windows == {w: w for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")}


# -- Sloth's other two forms -----------------------------------------------------------------

KUBERNETES = """apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: payments-slos
  namespace: monitoring
spec:
  service: payments
  labels:
    pageTeam: billing
  slos:
    - name: charges
      objective: 99.9
      sli:
        events:
          errorQuery: sum(rate(charges_total{outcome="error"}[{{.window}}]))
          totalQuery: sum(rate(charges_total[{{.window}}]))
      alerting:
        name: PaymentsChargeErrors
        pageAlert:
          labels: {routingKey: billing}
        ticketAlert:
          disable: true
"""
OPENSLO = """apiVersion: openslo/v1alpha
kind: SLO
metadata:
  name: lookups
spec:
  service: directory
  description: Directory lookups succeed
  budgetingMethod: Occurrences
  objectives:
    - ratioMetrics:
        good:
          source: prometheus
          queryType: promql
          query: sum(rate(lookups_total{ok="true"}[{{.window}}]))
        total:
          source: prometheus
          queryType: promql
          query: sum(rate(lookups_total[{{.window}}]))
      target: 0.995
  timeWindows:
    - count: 30
      unit: Day
"""


def test_the_kubernetes_and_openslo_forms_are_read_as_sloth_reads_them(tmp_path: Path) -> None:
    [payments] = parse_specs(KUBERNETES, "k8s.yml")
    assert payments.service == "payments" and payments.labels == {"pageTeam": "billing"}
    charges = payments.slos[0]
    assert charges.sli.events is not None and "outcome" in charges.sli.events.error_query
    assert charges.alerting.page_alert.labels == {"routingKey": "billing"}
    assert charges.alerting.ticket_alert.disable
    [directory] = parse_specs(OPENSLO, "openslo.yml")
    [lookups] = directory.slos
    assert (directory.service, lookups.name, lookups.objective) == ("directory", "lookups-0", 99.5)
    assert lookups.sli.raw is not None
    assert lookups.sli.raw.error_ratio_query.startswith('1 - ((sum(rate(lookups_total{ok="true"}')
    assert lookups.alerting.page_alert.disable and lookups.alerting.ticket_alert.disable
    both = _write(tmp_path, "both.yml", KUBERNETES + "---\n" + OPENSLO)
    assert set(_rules(tmp_path, both)) == {"slo-payments", "slo-directory"}
    windows = "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec: {sloPeriod: 7d}\n"
    with pytest.raises(SloSpecError, match=r"w\.yml: Sloth AlertWindows .* are not read"):
        parse_specs(windows, "w.yml")
    with pytest.raises(SloSpecError, match=r"o\.yml: spec\.timeWindows: gatewatch builds rules"):
        parse_specs(OPENSLO.replace("count: 30", "count: 7"), "o.yml")
