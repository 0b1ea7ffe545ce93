"""The on-call console without a browser: sign-in, roles, CSRF, the pages' content, the
actions behind the buttons, runbooks, post-incident reviews and response-time reporting
(on SQLite and PostgreSQL)."""

import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gatewatch.auth.passwords import hash_password
from gatewatch.store import outbox
from gatewatch.store.database import read_transaction
from gatewatch.store.outbox import list_notifications
from tests.conftest import ApiFactory
from tests.support.auth import TOKENS, auth
from tests.support.clock import ManualClock
from tests.support.payloads import LOSS_LABELS, webhook, webhook_alert

RUNBOOKS = Path(__file__).parents[2] / "runbooks"
PASSWORD = "correct horse battery staple"
LATENCY = {"alertname": "HighMessageDeliveryLatency", "severity": "P1", "service": "im-gateway"}


def _console(make_api: ApiFactory) -> TestClient:
    return make_api(
        auth={
            "tokens": [
                {"name": "alertmanager", "role": "ingest", "token": TOKENS["ingest"]},
                {"name": "viewer-vic", "role": "viewer", "token": TOKENS["viewer"]},
                {"name": "admin-ann", "role": "admin", "token": TOKENS["admin"]},
            ],
            "users": [
                {"name": "rita", "role": "responder", "password_hash": hash_password(PASSWORD)}
            ],
        },
        runbooks_dir=str(RUNBOOKS),
        people=[{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}],
        channels=[{"id": "ops-hook", "type": "webhook", "url": "http://127.0.0.1:9/hook"}],
        severities=[
            {"name": "critical", "channels": ["ops-hook"]},
            {"name": "P1"},
            {"name": "warning"},
        ],
        policies={
            "page-now": {
                "steps": [
                    {"after": "0s", "targets": ["person:alice"]},
                    {"after": "15m", "targets": ["person:bob"]},
                ]
            }
        },
        routes=[{"name": "all", "matchers": [], "group_by": ["alertname"], "policy": "page-now"}],
    )


def _fire(api: TestClient, labels: dict[str, str], status: str = "firing") -> None:
    alert = webhook_alert(
        labels,
        status=status,
        annotations={"summary": "loss", "runbook_url": "/runbooks/message-loss"},
    )
    if status == "resolved":
        alert["endsAt"] = "2026-11-22T10:30:00Z"
    answer = api.post(
        "/api/v1/webhooks/alertmanager",
        headers=auth("ingest"),
        json=webhook([alert], group_key=labels["alertname"]),
    )
    assert answer.status_code == 200, answer.text


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _login(api: TestClient, form: dict[str, str], **options: Any) -> Any:
    """Post the sign-in form as a browser does: with the CSRF token the form page carries."""
    token = _csrf(api.get("/ui/login").text)
    return api.post("/ui/login", data={"csrf": token, **form}, **options)


def _sign_in(api: TestClient, **form: str) -> str:
    answer = _login(api, {"next": "/ui/incidents", **form})
    assert answer.status_code == 200 and answer.url.path == "/ui/incidents", answer.text
    return _csrf(answer.text)


def test_pages_need_a_session_and_sign_in_takes_you_back(make_api: ApiFactory) -> None:
    api = _console(make_api)
    first = api.get("/ui/oncall", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/ui/login?next=/ui/oncall"
    assert api.get("/").url.path == "/ui/login"
    refused = _login(api, {"user": "rita", "password": "wrong"})
    assert refused.status_code == 401 and "Wrong user, password or token" in refused.text
    ingest_only = _login(api, {"token": TOKENS["ingest"]})
    assert ingest_only.status_code == 401
    answer = _login(
        api, {"user": "rita", "password": PASSWORD, "next": "/ui/oncall"}, follow_redirects=False
    )
    cookie = answer.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert api.get(answer.headers["location"]).url.path == "/ui/oncall"
    offsite = _login(api, {"token": TOKENS["admin"], "next": "//evil.example"})
    assert offsite.url.path == "/ui/"


def test_header_shows_firing_alerts_by_severity(make_api: ApiFactory) -> None:
    api = _console(make_api)
    _sign_in(api, token=TOKENS["viewer"])
    assert "all clear" in api.get("/ui/").text
    _fire(api, LOSS_LABELS)
    _fire(api, LATENCY)
    page = api.get("/ui/").text
    status = re.search(r'<a id="status"[^>]*class="(\w+)"[^>]*>(.*?)</a>', page, re.S)
    assert status and status.group(1) == "firing"
    assert re.sub(r"<[^>]+>|\s+", " ", status.group(2)).split() == ["1", "critical", "·", "1", "P1"]
    assert "HighMessageLossRate" in page and "HighMessageDeliveryLatency" in page
    only_loss = api.get("/ui/", params={"filter": 'severity="critical"'}).text
    assert "HighMessageLossRate" in only_loss and "HighMessageDeliveryLatency" not in only_loss
    bad = api.get("/ui/", params={"filter": "severity=="})
    assert bad.status_code == 422 and "filter:" in bad.text


def test_responder_works_an_incident_from_the_page(make_api: ApiFactory) -> None:
    api = _console(make_api)
    _fire(api, LOSS_LABELS)
    csrf = _sign_in(api, user="rita", password=PASSWORD)
    incident = api.get("/ui/incidents/1").text
    assert "Acknowledge" in incident and "/runbooks/message-loss" in incident
    steps = re.findall(r'<li class="(\w+)">step (\d) at [^—]+— (\w+)', incident)
    assert steps == [("done", "1", "Alice"), ("next", "2", "Bob")]
    forged = api.post("/ui/incidents/1/ack", data={"csrf": "forged"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    acked = api.post("/ui/incidents/1/ack", data={"csrf": csrf})
    assert "acknowledged: escalation stopped" in acked.text
    assert re.search(r'id="incident-status"[^>]*>acknowledged<', acked.text)
    assert re.findall(r'<li class="(\w+)">step 2', acked.text) == ["cancelled"]
    noted = api.post("/ui/incidents/1/note", data={"csrf": csrf, "text": "breaker open"})
    assert "rita</strong> breaker open" in noted.text
    resolved = api.post("/ui/incidents/1/resolve", data={"csrf": csrf})
    assert re.search(r'id="incident-status"[^>]*>resolved<', resolved.text)
    detail = api.get("/api/v1/incidents/1", headers=auth("viewer")).json()
    assert (detail["acknowledged_by"], detail["resolved_by"]) == ("rita", "rita")


def test_viewer_may_read_but_not_act(make_api: ApiFactory) -> None:
    api = _console(make_api)
    _fire(api, LOSS_LABELS)
    csrf = _sign_in(api, token=TOKENS["viewer"])
    page = api.get("/ui/incidents/1").text
    assert "Acknowledge" not in page
    refused = api.post("/ui/incidents/1/ack", data={"csrf": csrf})
    assert refused.status_code == 403 and "may not respond" in refused.text
    assert api.get("/api/v1/incidents/1", headers=auth("viewer")).json()["status"] == "triggered"


def test_runbooks_render_and_unknown_slugs_are_refused(make_api: ApiFactory) -> None:
    api = _console(make_api)
    _sign_in(api, token=TOKENS["viewer"])
    page = api.get("/runbooks/message-loss")
    assert page.status_code == 200
    assert "<h1>Message loss</h1>" in page.text and "<code>HighMessageLossRate</code>" in page.text
    index = api.get("/runbooks")
    assert index.url.path == "/runbooks/"  # relative links in the index resolve under it
    assert index.text.count('<a href="') > 40 and '<a href="message-loss">' in index.text
    assert api.get("/runbooks/no-such-thing").status_code == 404
    assert api.get("/runbooks/..%2Fpyproject").status_code == 404


def test_dashboard_links_lead_to_the_configured_grafana(make_api: ApiFactory) -> None:
    without = _console(make_api)
    _sign_in(without, token=TOKENS["viewer"])
    missing = without.get("/dashboards/im-gateway-messages")
    assert missing.status_code == 404 and "set grafana.url in gatewatch.yml" in missing.text
    api = make_api(
        auth={"tokens": [{"name": "viewer-vic", "role": "viewer", "token": TOKENS["viewer"]}]},
        grafana={"url": "https://grafana.example.org/"},
    )
    assert api.get("/dashboards/gatewatch", follow_redirects=False).status_code == 303
    _sign_in(api, token=TOKENS["viewer"])
    answer = api.get("/dashboards/im-gateway-slo?var-service=im-gateway", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == (
        "https://grafana.example.org/d/im-gateway-slo?var-service=im-gateway"
    )
    assert api.get("/dashboards/no%20such", follow_redirects=False).status_code == 404


def test_review_is_prefilled_editable_and_exported(
    make_api: ApiFactory, clock: ManualClock
) -> None:
    api = _console(make_api)
    _fire(api, LOSS_LABELS)
    csrf = _sign_in(api, user="rita", password=PASSWORD)
    clock.advance(timedelta(seconds=240))
    api.post("/ui/incidents/1/ack", data={"csrf": csrf})
    clock.advance(timedelta(seconds=600))
    _fire(api, LOSS_LABELS, status="resolved")
    fields = {"summary": "2 % of messages were lost", "root_cause": "MySQL disk full"}
    saved = api.post("/ui/incidents/1/review", data={"csrf": csrf, **fields})
    assert "Review saved." in saved.text
    added = api.post(
        "/ui/incidents/1/action-items",
        data={
            "csrf": csrf,
            "text": "Alert on MySQL disk at 80 %",
            "owner": "bob",
            "due": "2026-12-01",
        },
    )
    assert "Action item added for bob" in added.text
    document = api.get("/api/v1/incidents/1/postmortem", headers=auth("viewer"))
    assert document.headers["content-type"].startswith("text/markdown")
    text = document.text
    assert "# Post-incident review: #1" in text
    assert "2 % of messages were lost" in text and "MySQL disk full" in text
    assert "by rita (4 min 0 s after trigger)" in text
    assert "(14 min 0 s after trigger)" in text
    assert "| Alert on MySQL disk at 80 % | bob | 2026-12-01 | open |" in text
    assert "`HighMessageLossRate` (resolved)" in text
    # Still queued when rita acknowledged: cancelled, never sent after the fact.
    assert re.search(r"- 2026-11-22 12:00:00 UTC: alice on ops-hook \(cancelled\)", text)
    assert "Post-incident review updated" in text  # the timeline records the edit
    item = re.search(r'action="/ui/action-items/(\d+)/status"', added.text)
    assert item
    done = api.post(
        f"/ui/action-items/{item.group(1)}/status",
        data={"csrf": csrf, "incident": "1", "status": "done"},
    )
    assert (
        "is done" in done.text
        and "| done |" in api.get("/api/v1/incidents/1/postmortem", headers=auth("viewer")).text
    )


def test_response_times_report_and_histograms(make_api: ApiFactory, clock: ManualClock) -> None:
    api = _console(make_api)
    _fire(api, LOSS_LABELS)
    clock.advance(timedelta(seconds=120))
    assert api.post("/api/v1/incidents/1/ack", headers=auth("admin")).status_code == 200
    clock.advance(timedelta(seconds=180))
    _fire(api, LOSS_LABELS, status="resolved")
    _fire(api, LATENCY)
    rows = api.get(
        "/api/v1/reports/response-times", params={"since": "30d"}, headers=auth("viewer")
    ).json()
    by_severity = {row["severity"]: row for row in rows}
    assert by_severity["critical"]["mtta_seconds"] == 120
    assert by_severity["critical"]["mttr_seconds"] == 300
    assert by_severity["P1"]["acknowledged"] == 0 and by_severity["P1"]["mttr_seconds"] is None
    bad = api.get(
        "/api/v1/reports/response-times", params={"since": "soon"}, headers=auth("viewer")
    )
    assert bad.status_code == 422 and bad.json()["details"][0]["path"] == "query.since"
    metrics = api.get("/metrics").text
    critical = '{service="im-gateway",severity="critical"}'
    assert f"gatewatch_incident_time_to_acknowledge_seconds_sum{critical} 120.0" in metrics
    assert f"gatewatch_incident_time_to_resolve_seconds_count{critical} 1.0" in metrics


def test_on_call_page_and_override_form(make_api: ApiFactory) -> None:
    api = make_api(
        auth={"tokens": [{"name": "resp", "role": "responder", "token": TOKENS["responder"]}]},
        people=[{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}],
        schedules=[
            {
                "id": "im-primary",
                "layers": [
                    {"rotation": ["alice", "bob"], "shift": "1w", "handoff": "2026-11-16T09:00:00"}
                ],
            }
        ],
    )
    csrf = _sign_in(api, token=TOKENS["responder"])
    page = api.get("/ui/oncall").text
    assert re.search(r"<td>im-primary</td><td><strong>Alice</strong>", page)
    added = api.post(
        "/ui/oncall/overrides",
        data={"csrf": csrf, "schedule": "im-primary", "person": "bob", "hours": "8"},
    )
    assert "bob is on call for im-primary for the next 8 h" in added.text
    assert re.search(
        r"<td>im-primary</td><td><strong>Bob</strong> <span class=\"muted\">\(override\)",
        added.text,
    )
    unknown = api.post(
        "/ui/oncall/overrides",
        data={"csrf": csrf, "schedule": "nope", "person": "bob", "hours": "8"},
    )
    assert "schedule 'nope' does not exist" in html.unescape(unknown.text)


def test_dead_notification_is_resent_from_its_page(
    make_api: ApiFactory, clock: ManualClock
) -> None:
    api = make_api(
        channels=[{"id": "ops-hook", "type": "webhook", "url": "http://127.0.0.1:9/hook"}],
        severities=[{"name": "critical", "channels": ["ops-hook"]}, {"name": "warning"}],
    )
    _fire(api, LOSS_LABELS)
    database = api.app.state.services.runtime.database  # type: ignore[attr-defined]
    with database.begin() as connection:  # what the dispatcher does when the channel gives up
        claimed = outbox.claim_due(connection, clock.now(), clock.now(), 10)
        outbox.record_outcomes(
            connection,
            [],
            [outbox.Failure(n.id, "connection refused", None) for n in claimed],
            clock.now(),
        )
    assert claimed
    csrf = _sign_in(api, token=TOKENS["responder"])
    dead = api.get("/ui/notifications", params={"status": "dead"}).text
    assert "connection refused" in dead and "Re-send" in dead
    resent = api.post(f"/ui/notifications/{claimed[0].id}/resend", data={"csrf": csrf})
    assert f"Notification {claimed[0].id} queued again." in resent.text
    assert "Re-send" not in resent.text
    pending = api.get("/api/v1/notifications", params={"status": "pending"}, headers=auth("viewer"))
    assert claimed[0].id in [n["id"] for n in pending.json()]


def test_links_from_older_pages_redirect_to_the_console(api: TestClient) -> None:
    moved = api.get("/incidents/7", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/ui/incidents/7"


def test_a_runbook_url_that_is_no_web_page_never_becomes_a_link(make_api: ApiFactory) -> None:
    api = _console(make_api)
    alert = webhook_alert(
        {"alertname": "Sneaky", "severity": "critical"},
        annotations={"summary": "x", "runbook_url": "javascript:alert(document.domain)"},
    )
    body = webhook([alert], group_key="Sneaky")
    assert api.post("/api/v1/webhooks/alertmanager", headers=auth("ingest"), json=body).is_success
    _sign_in(api, token=TOKENS["viewer"])
    for page in (api.get("/ui/").text, api.get("/ui/incidents/1").text):
        assert 'href="javascript:' not in page.lower()
    assert "Runbook (not a web link)" in api.get("/ui/incidents/1").text
    database = api.app.state.services.runtime.database  # type: ignore[attr-defined]
    with read_transaction(database) as connection:
        queued = list_notifications(connection, None, 1, 10)
    assert queued and all(n.message["runbook_url"] is None for n in queued)


def test_console_pages_carry_security_headers(make_api: ApiFactory) -> None:
    api = _console(make_api)
    for path in ("/ui/login", "/runbooks/"):
        headers = api.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    assert api.get("/healthz").headers["x-content-type-options"] == "nosniff"


def test_sign_out_and_removal_end_the_session_everywhere(
    make_api: ApiFactory, clock: ManualClock
) -> None:
    api = _console(make_api)
    _sign_in(api, user="rita", password=PASSWORD)
    saved = dict(api.cookies)
    assert api.get("/ui/oncall").url.path == "/ui/oncall"
    api.post("/ui/logout", data={"csrf": _csrf(api.get("/ui/oncall").text)})
    replayed = TestClient(api.app, cookies=saved)
    assert replayed.get("/ui/oncall").url.path == "/ui/login"  # the old cookie is dead too

    _sign_in(api, user="rita", password=PASSWORD)
    kept = dict(api.cookies)
    without_rita = make_api(
        auth={"tokens": [{"name": "admin-ann", "role": "admin", "token": TOKENS["admin"]}]}
    )
    elsewhere = TestClient(without_rita.app, cookies=kept)  # another replica, newer config
    assert elsewhere.get("/ui/oncall").url.path == "/ui/login"


def test_repeated_failures_lock_sign_in_for_a_while(
    make_api: ApiFactory, clock: ManualClock
) -> None:
    api = _console(make_api)
    for _ in range(10):
        assert _login(api, {"user": "rita", "password": "wrong"}).status_code == 401
    locked = _login(api, {"user": "rita", "password": PASSWORD})
    assert locked.status_code == 429 and "too many failed sign-ins" in locked.text
    clock.advance(timedelta(minutes=16))
    assert _login(api, {"user": "rita", "password": PASSWORD}).url.path == "/ui/"


def test_the_sign_in_form_needs_its_csrf_token(make_api: ApiFactory) -> None:
    api = _console(make_api)
    forged = api.post("/ui/login", data={"user": "rita", "password": PASSWORD})
    assert forged.status_code == 403


def test_escalate_now_from_the_incident_page(make_api: ApiFactory) -> None:
    api = _console(make_api)
    _fire(api, LOSS_LABELS)
    csrf = _sign_in(api, user="rita", password=PASSWORD)
    assert "Escalate now" in api.get("/ui/incidents/1").text
    escalated = api.post("/ui/incidents/1/escalate", data={"csrf": csrf})
    assert "escalated: the next step is paged now" in escalated.text
    assert re.findall(r'<li class="(\w+)">step 2', escalated.text) == ["done"]
    again = api.post("/ui/incidents/1/escalate", data={"csrf": csrf})
    assert "no further step" in again.text


def test_checked_incidents_are_acknowledged_together(make_api: ApiFactory) -> None:
    api = _console(make_api)
    for n in range(3):
        _fire(api, {**LATENCY, "alertname": f"Latency{n}"})
    csrf = _sign_in(api, user="rita", password=PASSWORD)
    listing = api.get("/ui/incidents").text
    assert 'name="ids" value="1"' in listing and "Acknowledge selected" in listing
    done = api.post("/ui/incidents/bulk", data={"csrf": csrf, "action": "ack", "ids": ["1", "3"]})
    assert "2 incidents acknowledged." in done.text
    statuses = {
        item["id"]: item["status"]
        for item in api.get("/api/v1/incidents", headers=auth("viewer")).json()["items"]
    }
    assert statuses == {1: "acknowledged", 2: "triggered", 3: "acknowledged"}
