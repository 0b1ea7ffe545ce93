"""The generated dashboards hold together: unique uids, every panel on the provisioned data
source with a unit and valid PromQL, links and runbook references that resolve, thresholds
that follow the rules' tuning."""

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from gatewatch.config.rules import RulesTuning
from gatewatch.dashboards.catalogue import all_boards, all_dashboards
from gatewatch.dashboards.provisioning import write_dashboards
from gatewatch.dashboards.queries import annotation_queries, panel_queries
from gatewatch.rules.testing import tuned_packs

RUNBOOKS = Path(__file__).parents[2] / "runbooks"
SEED_003_TITLES = [
    "System Overview",
    "WebSocket Health",
    "Messaging Performance",
    "Error Analysis",
]


def _documents(tuning: RulesTuning = RulesTuning()) -> dict[str, dict[str, Any]]:
    return {document["uid"]: document for document in all_dashboards(tuning)}


def _panels(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in document["panels"] if p["type"] != "row"]


def test_the_seeds_dashboards_exist_with_unique_uids() -> None:
    boards = all_boards()
    uids = [board.uid for board in boards]
    assert len(uids) == len(set(uids)) == 7
    assert {"im-gateway-messages", "im-gateway-slo", "gatewatch"} <= set(uids)
    titles = [board.title for board in boards]
    for title in SEED_003_TITLES:
        assert any(t.endswith(title) for t in titles), title


def test_every_panel_reads_prometheus_with_a_unit_and_valid_promql() -> None:
    for uid, document in _documents().items():
        panels = _panels(document)
        assert panels, uid
        ids = [p["id"] for p in document["panels"]]
        assert len(ids) == len(set(ids)) and 0 not in ids, uid
        for panel in panels:
            where = f"{uid} / {panel['title']}"
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, where
            assert panel["fieldConfig"]["defaults"]["unit"], where
            refs = [t["refId"] for t in panel["targets"]]
            assert refs and len(refs) == len(set(refs)) and all(refs), where
            assert all(t["datasource"]["uid"] == "prometheus" for t in panel["targets"]), where
        for query in [*panel_queries(document), *annotation_queries(document)]:
            promql_parser.parse(query.expr)  # raises on anything Prometheus would refuse


def test_links_resolve_to_dashboards_that_exist() -> None:
    documents = _documents()
    for uid, document in documents.items():
        for link in document["links"]:
            tagged = [d for d in documents.values() if set(link["tags"]) <= set(d["tags"])]
            assert link["type"] == "dashboards" and len(tagged) == len(documents), uid
    packs, _ = tuned_packs(None)
    linked = []
    for pack in packs:
        for rule in pack.alerts():
            annotations = rule.get("annotations") or {}
            if "dashboard_url" not in annotations:
                continue
            found = re.fullmatch(
                r"__EXTERNAL_URL__/dashboards/([\w-]+)(\?.*)?", annotations["dashboard_url"]
            )
            assert found and found[1] in documents, rule["alert"]
            slug = annotations["runbook_url"].rsplit("/", 1)[1]
            runbook = (RUNBOOKS / f"{slug}.md").read_text()
            assert f"](../dashboards/{found[1]})" in runbook, f"{slug} does not link {found[1]}"
            linked.append(rule["alert"])
    assert {"HighMessageDeliveryLatency", "IMGatewayServiceDown", "GatewatchDown"} <= set(linked)
    assert "IMGatewayAvailabilityBudgetBurn" in linked
    for path in RUNBOOKS.glob("*.md"):
        for uid in re.findall(r"\]\(\.\./dashboards/([\w-]+)\)", path.read_text()):
            assert uid in documents, f"{path.name} links to a dashboard {uid} that is not shipped"


def test_every_gateway_alert_with_a_threshold_has_a_panel_that_follows_tuning() -> None:
    (pack,), _ = tuned_packs(["im-gateway"])
    expected = [
        r["alert"] for r in pack.alerts() if "tuning" in r and "im_gateway_" in str(r["expr"])
    ]
    shipped = _panels(_documents()["im-gateway-messages"])
    assert [p["title"] for p in shipped] == expected and len(expected) >= 9

    def line(panels: list[dict[str, Any]], alert: str) -> float:
        panel = next(p for p in panels if p["title"] == alert)
        value: float = panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"]
        return value

    assert line(shipped, "HighMessageDeliveryLatency") == 0.5
    tuning = RulesTuning.model_validate(
        {
            "overrides": {"HighMessageDeliveryLatency": {"threshold": "1s"}},
            "disabled": ["HighMessageDuplicationRate"],
        }
    )
    tuned = _panels(_documents(tuning)["im-gateway-messages"])
    assert line(tuned, "HighMessageDeliveryLatency") == 1.0
    assert "HighMessageDuplicationRate" not in [p["title"] for p in tuned]


def test_provisioning_points_grafana_at_the_dashboards_and_the_panels_data_source(
    tmp_path: Path,
) -> None:
    written = write_dashboards(tmp_path, all_dashboards(), "http://prometheus:9090", "/dashboards")
    files = sorted(p.relative_to(tmp_path).as_posix() for p in written)
    assert len([f for f in files if f.startswith("dashboards/")]) == 7
    source = yaml.safe_load((tmp_path / "provisioning/datasources/gatewatch.yml").read_text())
    assert source["datasources"][0] | {"uid": "prometheus"} == source["datasources"][0]
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((tmp_path / "provisioning/dashboards/gatewatch.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/dashboards"
    slo = json.loads((tmp_path / "dashboards/im-gateway-slo.json").read_text())
    assert slo["uid"] == "im-gateway-slo" and slo["annotations"]["list"]
