"""Group commit: units of work that arrive while a commit is in flight share the next
transaction and its one fsync.

Each unit runs under its own savepoint, so one that fails (a bug, a unique-key race with
another replica) is rolled back and reported alone while the rest of its group commits.
A caller returns only after the commit that holds its unit, so nothing is answered before
it is on disk. There is no thread of its own: the first caller to find no commit in flight
leads one group, then hands the lead to the oldest caller still waiting.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine, exc

from gatewatch.store.database import translate_outage, write_gate

T = TypeVar("T")
# Retries of a unit that lost a unique-key race (the winner's row is visible on the retry).
UNIT_ATTEMPTS = 3


@dataclass(eq=False)
class _Unit(Generic[T]):
    work: Callable[[Connection], T]
    settled: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    done: bool = False
    result: Any = None
    error: BaseException | None = None


def _run_unit(connection: Connection, unit: _Unit[Any]) -> None:
    for attempt in range(1, UNIT_ATTEMPTS + 1):
        savepoint = connection.begin_nested()
        try:
            with translate_outage():
                unit.result = unit.work(connection)
        except exc.IntegrityError as error:
            savepoint.rollback()
            if attempt == UNIT_ATTEMPTS:
                unit.error = error
        except Exception as error:
            savepoint.rollback()
            unit.error = error
            return
        else:
            savepoint.commit()
            return


class GroupCommit:
    def __init__(self, engine: Engine, max_group: int = 32) -> None:
        self._engine = engine
        self._max_group = max_group
        self._guard = threading.Lock()
        self._waiting: list[_Unit[Any]] = []
        self._leading = False
        self.last_group_size = 0

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in a shared transaction; return once that transaction committed."""
        unit: _Unit[T] = _Unit(work)
        with self._guard:
            self._waiting.append(unit)
            if not self._leading:
                self._leading = unit.lead = True
        while not unit.done:
            if unit.lead:
                self._lead()
            else:
                unit.settled.wait()
                unit.settled.clear()
        if unit.error is not None:
            raise unit.error
        return unit.result  # type: ignore[no-any-return]

    def _lead(self) -> None:
        with self._guard:
            group = self._waiting[: self._max_group]
            del self._waiting[: self._max_group]
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
                unit.lead, unit.done = False, True
                unit.settled.set()
            if self._waiting:
                successor = self._waiting[0]
                successor.lead = True
                successor.settled.set()
            else:
                self._leading = False
