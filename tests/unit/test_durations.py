from datetime import timedelta

import pytest

from gatewatch.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("250ms", timedelta(milliseconds=250)),
        ("1d", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
    ],
)
def test_parses_prometheus_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "m5", "5 m", "1m1h", "1.5h", "-5m", "5mm"])
def test_rejects_what_prometheus_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["1h30m", "5m", "1w2d", "250ms", "0s"])
def test_format_round_trips(text: str) -> None:
    assert format_duration(parse_duration(text)) == text
