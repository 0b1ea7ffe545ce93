"""Hot-path writes at the driver level: a statement compiled once per dialect, its rows
converted by plain functions and handed to the driver's executemany.

SQLAlchemy's executemany runs every value of every row through its bind processors and
builds a parameter dict per row; in an alert storm that was half of ingest's time. The
statement is still written in SQLAlchemy (so it follows the tables), only executed raw.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from gatewatch.store.tables import UTCDateTime

Converter = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


@lru_cache(maxsize=4096)
def _sqlite_datetime(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite dialect stores, so its reads parse it back alike.
    Cached: a batch's rows share their receive time and mostly their start times."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _aware_datetime(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _converter(bind_type: Any, dialect: Dialect) -> Converter:
    if isinstance(bind_type, UTCDateTime):
        return _sqlite_datetime if dialect.name == "sqlite" else _aware_datetime
    if isinstance(bind_type, JSON):
        return _json
    return _same


@dataclass(frozen=True)
class _Prepared:
    sql: str
    keys: tuple[str, ...]
    converters: tuple[Converter, ...]
    # Binds the statement fixes itself (`.values(status="delivered")`), by key.
    fixed: Mapping[str, Any]
    positional: bool

    def parameters(self, row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = tuple(
            convert(row[key] if key not in self.fixed else self.fixed[key])
            for key, convert in zip(self.keys, self.converters, strict=True)
        )
        return values if self.positional else dict(zip(self.keys, values, strict=True))


class BulkWrite:
    """An INSERT or UPDATE with bind parameters named by `keys`, run for many rows at once."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str]) -> None:
        self._statement = statement
        self._keys = tuple(keys)
        self._prepared: dict[str, _Prepared] = {}

    def _prepare(self, dialect: Dialect) -> _Prepared:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            compiled = self._statement.compile(dialect=dialect, column_keys=list(self._keys))
            assert isinstance(compiled, SQLCompiler)
            binds = {name: bind for bind, name in compiled.bind_names.items()}
            keys = tuple(compiled.positiontup or ()) if compiled.positional else tuple(binds)
            fixed = {key: binds[key].effective_value for key in keys if key not in self._keys}
            missing = {key for key in fixed if binds[key].required}
            if missing:
                raise ValueError(f"bulk statement binds {sorted(missing)} not named in keys")
            converters = tuple(_converter(binds[key].type, dialect) for key in keys)
            prepared = _Prepared(str(compiled), keys, converters, fixed, compiled.positional)
            self._prepared[dialect.name] = prepared
        return prepared

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        prepared = self._prepare(connection.dialect)
        connection.exec_driver_sql(prepared.sql, [prepared.parameters(row) for row in rows])
