"""Bad bodies get a 4xx naming the field, and nothing of them is written."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ApiFactory
from tests.support.auth import auth
from tests.support.payloads import push_alert, webhook, webhook_alert

WEBHOOK = "/api/v1/webhooks/alertmanager"
PUSH = "/api/v2/alerts"


def _nothing_stored(api: TestClient) -> None:
    assert api.get("/api/v1/incidents", headers=auth("viewer")).json()["total"] == 0
    assert (
        api.get("/api/v1/alerts", params={"status": "all"}, headers=auth("viewer")).json()["items"]
        == []
    )


def _bad_webhooks() -> list[tuple[str, Any, str]]:
    good = webhook([webhook_alert({"alertname": "A"}), webhook_alert({"alertname": "B"})])
    cases: list[tuple[str, Any, str]] = []

    def case(name: str, path: str, mutate: Any) -> None:
        body = json.loads(json.dumps(good))
        mutate(body)
        cases.append((name, body, path))

    case("version", "version", lambda b: b.update(version="3"))
    case("missing alerts", "alerts", lambda b: b.pop("alerts"))
    case(
        "label type",
        "alerts[1].labels.severity",
        lambda b: b["alerts"][1]["labels"].update(severity=5),
    )
    case("bad time", "alerts[0].startsAt", lambda b: b["alerts"][0].update(startsAt="yesterday"))
    case("status", "alerts[1].status", lambda b: b["alerts"][1].update(status="burning"))
    case(
        "label name",
        "alerts[0].labels.bad-name.[key]",
        lambda b: b["alerts"][0]["labels"].update({"bad-name": "x"}),
    )
    case("empty labels", "alerts[1].labels", lambda b: b["alerts"][1].update(labels={}))
    # Limits at the edge: the same answer whatever the store (PostgreSQL refused these).
    case(
        "alertname over 255",
        "alerts[0].labels",
        lambda b: b["alerts"][0]["labels"].update(alertname="A" * 256),
    )
    case(
        "service over 255",
        "alerts[1].labels",
        lambda b: b["alerts"][1]["labels"].update(service="s" * 300),
    )
    case(
        "label value over 1024",
        "alerts[0].labels.instance",
        lambda b: b["alerts"][0]["labels"].update(instance="i" * 1025),
    )
    case(
        "label name over 128",
        f"alerts[0].labels.{'n' * 129}.[key]",
        lambda b: b["alerts"][0]["labels"].update({"n" * 129: "x"}),
    )
    case(
        "too many labels",
        "alerts[0].labels",
        lambda b: b["alerts"][0]["labels"].update({f"l{i}": "x" for i in range(64)}),
    )
    case(
        "NUL in a label",
        "alerts[1].labels.instance",
        lambda b: b["alerts"][1]["labels"].update(instance="gw\u0000-1"),
    )
    case(
        "NUL in an annotation",
        "alerts[0].annotations.summary",
        lambda b: b["alerts"][0]["annotations"].update(summary="down\x00now"),
    )
    case(
        "annotation over 16 KiB",
        "alerts[0].annotations.description",
        lambda b: b["alerts"][0]["annotations"].update(description="d" * (16 * 1024 + 1)),
    )
    case(
        "NUL in the generator URL",
        "alerts[0].generatorURL",
        lambda b: b["alerts"][0].update(generatorURL="http://p/\x00"),
    )
    return cases


@pytest.mark.parametrize(
    ("name", "body", "path"), _bad_webhooks(), ids=[c[0] for c in _bad_webhooks()]
)
def test_invalid_webhook_names_the_field_and_stores_nothing(
    api: TestClient, name: str, body: Any, path: str
) -> None:
    response = api.post(WEBHOOK, json=body, headers=auth("ingest"))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid payload"
    assert path in [d["path"] for d in response.json()["details"]]
    _nothing_stored(api)


def test_values_at_the_limits_are_stored_alike_on_both_stores(api: TestClient) -> None:
    labels = {"alertname": "A" * 255, "service": "é" * 255, "instance": "ü" * 1024}
    labels |= {f"l{i}": "x" for i in range(64 - len(labels))}
    annotations = {"summary": "s", "description": "ö" * (16 * 1024)}
    body = webhook([webhook_alert(labels, annotations=annotations)])
    response = api.post(WEBHOOK, json=body, headers=auth("ingest"))
    assert response.status_code == 200, response.text
    stored = api.get("/api/v1/alerts", headers=auth("viewer")).json()["items"]
    assert [(a["labels"], a["annotations"]) for a in stored] == [(labels, annotations)]


def test_invalid_push_names_the_index(api: TestClient) -> None:
    body = [
        push_alert({"alertname": "A"}),
        push_alert(
            {"alertname": "B"}, starts_at="2026-11-22T10:00:00Z", ends_at="2026-11-22T09:00:00Z"
        ),
    ]
    response = api.post(PUSH, json=body, headers=auth("ingest"))
    assert response.status_code == 422
    assert response.json()["details"] == [{"path": "[1]", "message": "endsAt is before startsAt"}]
    not_a_list = api.post(PUSH, json={"labels": {}}, headers=auth("ingest"))
    assert not_a_list.status_code == 422
    _nothing_stored(api)


def test_malformed_json_is_400(api: TestClient) -> None:
    response = api.post(
        WEBHOOK,
        content=b'{"version": "4", "alerts": [',
        headers={**auth("ingest"), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed JSON"
    _nothing_stored(api)


def test_body_over_the_limit_is_413(make_api: ApiFactory) -> None:
    api = make_api(limits={"max_body_bytes": 2048, "max_alerts_per_request": 3})
    big = webhook([webhook_alert({"alertname": "A", "pad": "x" * 4096})])
    response = api.post(WEBHOOK, json=big, headers=auth("ingest"))
    assert response.status_code == 413
    assert "2048 bytes" in response.json()["error"]
    chunked = api.post(
        WEBHOOK,
        content=iter([json.dumps(big).encode()]),
        headers={**auth("ingest"), "content-type": "application/json"},
    )
    assert chunked.status_code == 413
    many = [push_alert({"alertname": f"A{i}"}) for i in range(4)]
    too_many = api.post(PUSH, json=many, headers=auth("ingest"))
    assert too_many.status_code == 413
    assert "the limit is 3" in too_many.json()["error"]
    _nothing_stored(api)


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-000000000", "Basic abc"])
def test_ingest_without_a_valid_token_is_401(api: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = api.post(WEBHOOK, json=webhook([webhook_alert({"alertname": "A"})]), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    _nothing_stored(api)


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("viewer", "POST", WEBHOOK, False),
        ("responder", "POST", PUSH, False),
        ("ingest", "GET", "/api/v1/incidents", False),
        ("viewer", "GET", "/api/v1/incidents", True),
        ("viewer", "POST", "/api/v1/incidents/1/ack", False),
        ("ingest", "POST", "/api/v1/incidents/1/resolve", False),
    ],
)
def test_roles_limit_what_a_token_may_do(
    api: TestClient, role: str, method: str, path: str, allowed: bool
) -> None:
    response = api.request(method, path, headers=auth(role), json=[])
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert f"role {role}" in response.json()["error"]
