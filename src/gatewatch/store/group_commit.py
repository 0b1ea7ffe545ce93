"""Group commit: units of work that arrive while a commit is in flight share the next
transaction and its one fsync.

Each unit runs under its own savepoint, so one that fails (a bug, a unique-key race with
another replica) is rolled back and reported alone while the rest of its group commits.
A caller returns only after the commit that holds its unit, so nothing is answered before
it is on disk. There is no thread of its own: a caller that finds a lane free leads one group,
then hands the lead to the oldest caller still waiting.

SQLite has one writer, so one lane. PostgreSQL takes concurrent writers: there several groups
are in flight at once, so one group's round trips and fsync do not hold up the next (with one
lane, 4 clients on PostgreSQL were no faster than 1). Units write their rows in key order, so
concurrent groups cannot deadlock; a unit that loses a unique-key race is retried alone.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, exc

from gatewatch.store.database import DatabaseUnavailable, translate_outage, write_gate

T = TypeVar("T")
# Retries of a unit that lost a unique-key race (the winner's row is visible on the retry).
UNIT_ATTEMPTS = 3
# Groups in flight at once on a database that takes concurrent writers.
POSTGRES_LANES = 4


@dataclass(eq=False)
class _Unit(Generic[T]):
    work: Callable[[Connection], T]
    settled: threading.Event = field(default_factory=threading.Event)
    lead: bool = False  # holds a lane: leads the next group it finds
    taken: bool = False  # in a group under way (its own or another leader's)
    done: bool = False
    result: Any = None
    error: BaseException | None = None


# PostgreSQL's deadlock_detected and serialization_failure: another group won; retry alone.
_RETRYABLE_SQLSTATES = ("40P01", "40001")


def _lost_race(error: BaseException) -> bool:
    """A unique-key race or a deadlock with a concurrent group: the unit is retried alone."""
    if isinstance(error, exc.IntegrityError):
        return True
    cause = error.__cause__ if isinstance(error, DatabaseUnavailable) else error
    return getattr(getattr(cause, "orig", None), "sqlstate", None) in _RETRYABLE_SQLSTATES


def _run_unit(connection: Connection, unit: _Unit[Any]) -> None:
    for attempt in range(1, UNIT_ATTEMPTS + 1):
        savepoint = connection.begin_nested()
        try:
            with translate_outage():
                unit.result = unit.work(connection)
        except Exception as error:
            if connection.invalidated:  # the server or the link is gone: the group fails as one
                raise
            savepoint.rollback()
            if attempt < UNIT_ATTEMPTS and _lost_race(error):
                continue
            unit.error = error
            return
        else:
            savepoint.commit()
            return


class GroupCommit:
    def __init__(self, engine: Engine, max_group: int = 32, lanes: int | None = None) -> None:
        self._engine = engine
        self._max_group = max_group
        self._lanes = lanes or (1 if engine.dialect.name == "sqlite" else POSTGRES_LANES)
        self._guard = threading.Lock()
        self._waiting: list[_Unit[Any]] = []
        self._leaders = 0
        self.last_group_size = 0

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in a shared transaction; return once that transaction committed."""
        unit: _Unit[T] = _Unit(work)
        with self._guard:
            self._waiting.append(unit)
            if self._leaders < self._lanes:
                self._leaders += 1
                unit.lead = True
        while not unit.done:
            if unit.lead:
                self._lead(unit)
            else:
                unit.settled.wait()
                unit.settled.clear()
        if unit.error is not None:
            raise unit.error
        return unit.result  # type: ignore[no-any-return]

    def _lead(self, leader: _Unit[Any]) -> None:
        with self._guard:
            leader.lead = False
            if leader.taken:  # another lane's group holds it: this lane passes on
                self._pass_lane()
                return
            group = self._waiting[: self._max_group]
            del self._waiting[: self._max_group]
            for unit in group:
                unit.taken = True
        try:
            with write_gate(self._engine), translate_outage(), self._engine.begin() as connection:
                for unit in group:
                    _run_unit(connection, unit)
        except BaseException as error:
            for unit in group:
                unit.error = error
        self.last_group_size = len(group)
        with self._guard:
            for unit in group:
                unit.done = True
                unit.settled.set()
            self._pass_lane()

    def _pass_lane(self) -> None:
        """Hand this lane to the oldest waiting unit without one, or free it (guard held)."""
        for unit in self._waiting:
            if not unit.lead:
                unit.lead = True
                unit.settled.set()
                return
        self._leaders -= 1
