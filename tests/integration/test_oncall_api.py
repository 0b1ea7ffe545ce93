"""On-call and overrides through the API, on both stores."""

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import ApiFactory
from tests.support.auth import auth
from tests.support.clock import ManualClock

PEOPLE = [
    {"id": "alice", "name": "Alice"},
    {"id": "bob", "name": "Bob"},
    {"id": "dave", "name": "Dave"},
]
SCHEDULES = [
    {
        "id": "primary",
        "time_zone": "Europe/Berlin",
        "layers": [{"rotation": ["alice", "bob"], "shift": "1d", "handoff": "2026-11-01T09:00:00"}],
    }
]


def _api(make_api: ApiFactory) -> TestClient:
    return make_api(people=PEOPLE, schedules=SCHEDULES)


def test_who_is_on_call_now_and_next(make_api: ApiFactory, clock: ManualClock) -> None:
    api = _api(make_api)
    clock.current = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    [window] = api.get("/api/v1/oncall", headers=auth("viewer")).json()
    # Shift 21 since the first hand-off (odd): bob; next hand-off 09:00 Berlin = 08:00 UTC.
    assert [p["name"] for p in window["on_call"]] == ["Bob"]
    assert [p["id"] for p in window["next"]] == ["alice"]
    # Hand-offs are shown in the schedule's own zone.
    assert window["until"] == "2026-11-23T09:00:00+01:00"
    later = api.get(
        "/api/v1/oncall", params={"at": "2026-11-23T08:00:00Z"}, headers=auth("viewer")
    ).json()
    assert later[0]["on_call"][0]["id"] == "alice"


def test_override_takes_over_and_can_be_removed(make_api: ApiFactory, clock: ManualClock) -> None:
    api = _api(make_api)
    clock.current = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    created = api.post(
        "/api/v1/schedules/primary/overrides",
        headers=auth("responder"),
        json={"person": "dave", "start": "2026-11-22T11:00:00Z", "end": "2026-11-22T20:00:00Z"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["created_by"] == "responder-alice"
    [window] = api.get("/api/v1/oncall", headers=auth("viewer")).json()
    assert (window["on_call"][0]["id"], window["overridden"]) == ("dave", True)
    assert datetime.fromisoformat(window["until"]) == datetime(2026, 11, 22, 20, tzinfo=UTC)
    listed = api.get("/api/v1/schedules/primary/overrides", headers=auth("viewer")).json()
    assert [o["person"] for o in listed] == ["dave"]
    assert (
        api.delete(f"/api/v1/overrides/{listed[0]['id']}", headers=auth("responder")).status_code
        == 204
    )
    assert api.get("/api/v1/oncall", headers=auth("viewer")).json()[0]["on_call"][0]["id"] == "bob"


def test_bad_overrides_are_refused(make_api: ApiFactory) -> None:
    api = _api(make_api)

    def post(schedule: str, **body: str) -> int:
        full = {
            "person": "dave",
            "start": "2026-11-22T11:00:00Z",
            "end": "2026-11-22T20:00:00Z",
            **body,
        }
        return api.post(
            f"/api/v1/schedules/{schedule}/overrides", json=full, headers=auth("responder")
        ).status_code

    assert post("nope") == 404
    assert post("primary", person="zed") == 404
    assert post("primary", end="2026-11-22T10:00:00Z") == 409
    assert post("primary", start="2026-11-22T11:00:00") == 422  # no offset
    assert (
        api.post(
            "/api/v1/schedules/primary/overrides",
            headers=auth("viewer"),
            json={"person": "dave", "start": "2026-11-22T11:00:00Z", "end": "2026-11-22T20:00:00Z"},
        ).status_code
        == 403
    )
    assert (
        api.get("/api/v1/oncall", params={"schedule": "nope"}, headers=auth("viewer")).status_code
        == 404
    )


def test_oncall_api_across_the_spring_dst_change(make_api: ApiFactory) -> None:
    api = _api(make_api)

    def at(moment: str) -> dict[str, object]:
        windows = api.get("/api/v1/oncall", params={"at": moment}, headers=auth("viewer"))
        assert windows.status_code == 200, windows.text
        window: dict[str, object] = windows.json()[0]
        return window

    # Berlin springs forward on 2026-03-29; the 09:00 hand-off is 08:00 UTC before, 07:00 after.
    before = at("2026-03-28T07:59:59Z")
    assert before["until"] == "2026-03-28T09:00:00+01:00"
    after = at("2026-03-29T06:59:59Z")
    assert after["until"] == "2026-03-29T09:00:00+02:00"
    handed = at("2026-03-29T07:00:00Z")
    assert handed["on_call"] == after["next"]


def test_overrides_can_be_shortened_but_never_overlap(
    make_api: ApiFactory, clock: ManualClock
) -> None:
    api = _api(make_api)
    clock.current = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def add(person: str, start: str, end: str) -> Any:
        body = {"person": person, "start": start, "end": end}
        return api.post("/api/v1/schedules/primary/overrides", json=body, headers=auth("responder"))

    first = add("dave", "2026-11-22T12:00:00Z", "2026-11-22T20:00:00Z")
    assert first.status_code == 201
    clash = add("alice", "2026-11-22T18:00:00Z", "2026-11-22T22:00:00Z")
    assert clash.status_code == 409 and f"overlaps override {first.json()['id']}" in clash.text
    shortened = api.patch(
        f"/api/v1/overrides/{first.json()['id']}",
        json={"end": "2026-11-22T16:00:00Z"},
        headers=auth("responder"),
    )
    assert shortened.status_code == 200
    assert datetime.fromisoformat(shortened.json()["end"]) == datetime(2026, 11, 22, 16, tzinfo=UTC)
    [window] = api.get("/api/v1/oncall", headers=auth("viewer")).json()
    assert datetime.fromisoformat(window["until"]) == datetime(2026, 11, 22, 16, tzinfo=UTC)
    assert add("alice", "2026-11-22T18:00:00Z", "2026-11-22T22:00:00Z").status_code == 201
    too_long = api.patch(
        f"/api/v1/overrides/{first.json()['id']}",
        json={"end": "2026-11-22T19:00:00Z"},
        headers=auth("responder"),
    )
    assert too_long.status_code == 409
    before_start = api.patch(
        f"/api/v1/overrides/{first.json()['id']}",
        json={"end": "2026-11-22T11:00:00Z"},
        headers=auth("responder"),
    )
    assert before_start.status_code == 409 and "remove it" in before_start.text


def test_an_override_of_one_layer_leaves_the_other_layers_on_call(
    make_api: ApiFactory, clock: ManualClock
) -> None:
    two_layers = [
        {
            "id": "gateway",
            "layers": [
                {
                    "name": "primary",
                    "rotation": ["alice"],
                    "shift": "1w",
                    "handoff": "2026-11-02T09:00",
                },
                {
                    "name": "backup",
                    "rotation": ["bob"],
                    "shift": "1w",
                    "handoff": "2026-11-02T09:00",
                },
            ],
        }
    ]
    api = make_api(people=PEOPLE, schedules=two_layers)
    clock.current = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def add(body: dict[str, str]) -> Any:
        return api.post("/api/v1/schedules/gateway/overrides", json=body, headers=auth("responder"))

    window = {"start": "2026-11-22T12:00:00Z", "end": "2026-11-22T20:00:00Z"}
    created = add({"person": "dave", "layer": "backup", **window})
    assert created.status_code == 201 and created.json()["layer"] == "backup"
    [now] = api.get("/api/v1/oncall", headers=auth("viewer")).json()
    assert ([p["id"] for p in now["on_call"]], now["overridden"]) == (["alice", "dave"], True)
    # Another override of the same layer at the same time is refused; of the other layer, not.
    assert add({"person": "alice", "layer": "backup", **window}).status_code == 409
    assert add({"person": "dave", "layer": "primary", **window}).status_code == 201
    [both] = api.get("/api/v1/oncall", headers=auth("viewer")).json()
    assert [p["id"] for p in both["on_call"]] == ["dave"]
    unknown = add({"person": "dave", "layer": "tertiary", **window})
    assert unknown.status_code == 404 and "named layers: primary, backup" in unknown.text
