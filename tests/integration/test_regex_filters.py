"""Matchers from viewers (API and console filters) and from the config share one RE2 engine:
a pathological regular expression cannot stall the server."""

from fastapi.testclient import TestClient

from gatewatch.config import ConfigError, parse_config
from tests.support.auth import auth
from tests.support.payloads import webhook, webhook_alert

LONG = "a" * 1000  # within the label value limit; backtracking would take ~2^1000 steps


def test_a_nested_quantifier_filter_answers_and_health_stays_up(api: TestClient) -> None:
    body = webhook([webhook_alert({"alertname": "Slow", "instance": LONG})])
    assert api.post("/api/v1/webhooks/alertmanager", json=body, headers=auth("ingest")).is_success
    found = api.get(
        "/api/v1/alerts", params={"filter": 'instance=~"(a+)+b"'}, headers=auth("viewer")
    )
    assert found.status_code == 200 and found.json()["items"] == []
    matched = api.get(
        "/api/v1/alerts", params={"filter": 'instance=~"(a+)+"'}, headers=auth("viewer")
    )
    assert [a["labels"]["alertname"] for a in matched.json()["items"]] == ["Slow"]
    assert api.get("/healthz").json() == {"status": "ok"}


def test_a_backreference_filter_is_a_422_naming_the_parameter(api: TestClient) -> None:
    refused = api.get(
        "/api/v1/alerts", params={"filter": r'instance=~"(a)\\1"'}, headers=auth("viewer")
    )
    assert refused.status_code == 422
    detail = refused.json()["details"][0]
    assert detail["path"] == "query.filter[0]" and "RE2" in detail["message"]


def test_route_matchers_in_the_config_use_the_same_engine() -> None:
    text = "routes:\n  - name: bad\n    matchers: ['team=~\"(x)\\\\1\"']\n"
    try:
        parse_config(text, "gatewatch.yml", {})
    except ConfigError as exc:
        assert "gatewatch.yml:3: routes[0].matchers" in str(exc) and "RE2" in str(exc)
    else:
        raise AssertionError("a backreference in a route matcher was accepted")
