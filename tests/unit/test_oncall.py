"""On-call answers, including across daylight-saving changes."""

from datetime import UTC, datetime

from gatewatch.config.oncall import ScheduleConfig
from gatewatch.model import Override
from gatewatch.oncall.rotation import on_call_window, people_on_call


def _schedule(**layer: object) -> ScheduleConfig:
    return ScheduleConfig.model_validate(
        {
            "id": "im-primary",
            "time_zone": "Europe/Berlin",
            "layers": [
                {
                    "rotation": ["alice", "bob", "carol"],
                    "shift": "1d",
                    "handoff": "2026-03-01T09:00:00",
                    **layer,
                }
            ],
        }
    )


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_daily_rotation_hands_off_at_local_nine() -> None:
    schedule = _schedule()
    # 2026-03-01 09:00 Berlin (CET, UTC+1) is 08:00 UTC.
    assert people_on_call(schedule, [], _utc("2026-03-01T07:59:59"))[0] == ["carol"]
    assert people_on_call(schedule, [], _utc("2026-03-01T08:00:00"))[0] == ["alice"]
    assert people_on_call(schedule, [], _utc("2026-03-02T08:00:00"))[0] == ["bob"]


def test_handoff_stays_at_nine_local_across_spring_forward() -> None:
    schedule = _schedule()
    # Berlin moves to CEST (UTC+2) on 2026-03-29 at 02:00; 09:00 local is then 07:00 UTC.
    window = on_call_window(schedule, [], _utc("2026-03-28T12:00:00"))
    assert window.until == _utc("2026-03-29T07:00:00")
    assert people_on_call(schedule, [], _utc("2026-03-29T06:59:59"))[0] == window.people
    assert people_on_call(schedule, [], _utc("2026-03-29T07:00:00"))[0] == window.next_people
    # That shift lasted 23 real hours.
    before = on_call_window(schedule, [], _utc("2026-03-28T08:00:00"))
    assert (before.until - _utc("2026-03-28T08:00:00")).total_seconds() == 23 * 3600


def test_handoff_stays_at_nine_local_across_fall_back() -> None:
    schedule = _schedule()
    # Back to CET on 2026-10-25 at 03:00; 09:00 local is 08:00 UTC again, a 25-hour shift.
    window = on_call_window(schedule, [], _utc("2026-10-24T07:00:00"))
    assert window.until == _utc("2026-10-25T08:00:00")
    assert (window.until - _utc("2026-10-24T07:00:00")).total_seconds() == 25 * 3600


def test_weekly_rotation_and_next() -> None:
    schedule = _schedule(shift="1w", rotation=["alice", "bob"])
    window = on_call_window(schedule, [], _utc("2026-03-05T12:00:00"))
    assert (window.people, window.next_people) == (["alice"], ["bob"])
    assert window.until == _utc("2026-03-08T08:00:00")


def test_override_replaces_the_schedule_for_its_window() -> None:
    schedule = _schedule()
    override = Override(
        1, "im-primary", "dave", _utc("2026-03-01T12:00:00"), _utc("2026-03-01T18:00:00"), "admin"
    )
    at = _utc("2026-03-01T13:00:00")
    assert people_on_call(schedule, [override], at) == (["dave"], True)
    window = on_call_window(schedule, [override], _utc("2026-03-01T10:00:00"))
    assert (window.people, window.until, window.next_people) == (
        ["alice"],
        _utc("2026-03-01T12:00:00"),
        ["dave"],
    )
    after = on_call_window(schedule, [override], at)
    assert (after.until, after.next_people) == (_utc("2026-03-01T18:00:00"), ["alice"])


def test_two_layers_page_both_people() -> None:
    schedule = ScheduleConfig.model_validate(
        {
            "id": "s",
            "layers": [
                {"rotation": ["alice", "bob"], "shift": "12h", "handoff": "2026-01-01T08:00:00"},
                {"rotation": ["mgr"], "shift": "1w", "handoff": "2026-01-01T00:00:00"},
            ],
        }
    )
    assert people_on_call(schedule, [], _utc("2026-01-01T21:00:00"))[0] == ["bob", "mgr"]


def test_same_person_twice_in_a_row_is_not_a_change() -> None:
    schedule = _schedule(rotation=["alice", "alice", "bob"])
    window = on_call_window(schedule, [], _utc("2026-03-01T10:00:00"))
    assert (window.next_people, window.until) == (["bob"], _utc("2026-03-03T08:00:00"))


def test_monthly_rotation_hands_off_on_the_same_day_or_the_last_of_a_shorter_month() -> None:
    schedule = _schedule(shift="1mo", handoff="2026-01-31T09:00:00")
    # 09:00 Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
    assert people_on_call(schedule, [], _utc("2026-01-31T07:59:59"))[0] == ["carol"]
    assert people_on_call(schedule, [], _utc("2026-01-31T08:00:00"))[0] == ["alice"]
    assert people_on_call(schedule, [], _utc("2026-02-28T07:59:59"))[0] == ["alice"]
    assert people_on_call(schedule, [], _utc("2026-02-28T08:00:00"))[0] == ["bob"]
    assert people_on_call(schedule, [], _utc("2026-03-31T07:00:00"))[0] == ["carol"]
    assert people_on_call(schedule, [], _utc("2026-04-30T07:00:00"))[0] == ["alice"]
    window = on_call_window(schedule, [], _utc("2026-03-01T00:00:00"))
    assert (window.people, window.until, window.next_people) == (
        ["bob"],
        _utc("2026-03-31T07:00:00"),
        ["carol"],
    )


def test_quarterly_rotation_counts_months_across_years() -> None:
    schedule = _schedule(shift="3mo", handoff="2026-11-15T09:00:00")
    assert people_on_call(schedule, [], _utc("2027-02-15T07:59:59"))[0] == ["alice"]
    assert people_on_call(schedule, [], _utc("2027-02-15T08:00:00"))[0] == ["bob"]
    assert people_on_call(schedule, [], _utc("2026-08-15T08:00:00"))[0] == ["carol"]
