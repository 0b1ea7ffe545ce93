"""The clock a file sets, which rehearsals and end-to-end tests hand to `gatewatch serve`."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gatewatch.clock import FileClock
from gatewatch.errors import GatewatchError
from tests.support.clock import ClockFile

START = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)


def test_reads_the_moment_and_runs_on_from_it(tmp_path: Path) -> None:
    ClockFile(tmp_path / "clock", START)
    clock = FileClock(tmp_path / "clock")
    first, second = clock.now(), clock.now()
    assert START <= first <= second < START + timedelta(seconds=5)
    assert first.tzinfo is UTC


def test_a_rewritten_file_moves_the_clock(tmp_path: Path) -> None:
    file = ClockFile(tmp_path / "clock", START)
    clock = FileClock(file.path)
    file.set(START + timedelta(hours=7))
    assert START + timedelta(hours=7) <= clock.now() < START + timedelta(hours=7, seconds=5)


def test_an_unreadable_rewrite_keeps_the_last_setting(tmp_path: Path) -> None:
    file = ClockFile(tmp_path / "clock", START)
    clock = FileClock(file.path)
    file.path.write_text("half a moment")
    assert START <= clock.now() < START + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("yesterday", "is not an ISO-8601 moment"), ("2027-03-28T02:00:00", "has no UTC offset")],
)
def test_a_bad_file_is_refused_at_start(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "clock").write_text(text)
    with pytest.raises(GatewatchError, match=problem):
        FileClock(tmp_path / "clock")
