"""Hot-path writes at the driver level: a statement compiled once per dialect, its rows
converted by plain functions and handed to the driver.

SQLAlchemy's executemany runs every value of every row through its bind processors and
builds a parameter dict per row; in an alert storm that was half of ingest's time. The
statement is still written in SQLAlchemy (so it follows the tables), only executed raw.

On SQLite the rows go to the driver's executemany (in-process, a statement per row is
cheap). On PostgreSQL a statement per row is a server round of parse, plan and execute:
100 alert updates were most of a batch's 27 ms. There the statement is rewritten once to
take every row at once, each row key a column of arrays (`INSERT … SELECT … FROM unnest(…)`,
`UPDATE … FROM unnest(…) AS v WHERE …`), one execution for the whole batch. The keys an
UPDATE matches on must be unique within one call.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
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


class _Prepared:
    """SQLite: a parameter tuple (or dict) per row for the driver's executemany. The values
    are taken in C and only those that need it converted: the per-value Python call was
    most of this conversion's cost."""

    def __init__(
        self,
        sql: str,
        keys: tuple[str, ...],
        converters: tuple[Converter, ...],
        fixed: Mapping[str, Any],
        positional: bool,
    ) -> None:
        self.sql = sql
        self._keys = keys
        # Binds the statement fixes itself (`.values(status="delivered")`), by key.
        self._fixed = fixed
        self._positional = positional
        taken = itemgetter(*keys)
        self._values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = (
            taken if len(keys) > 1 else lambda row: (taken(row),)
        )
        self._conversions = tuple(
            (index, convert) for index, convert in enumerate(converters) if convert is not _same
        )

    def parameters(self, row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        values = list(self._values({**row, **self._fixed} if self._fixed else row))
        for index, convert in self._conversions:
            values[index] = convert(values[index])
        return tuple(values) if self._positional else dict(zip(self._keys, values, strict=True))


@dataclass(frozen=True)
class _Unnested:
    """PostgreSQL: one execution for all rows; each row key is an array parameter."""

    sql: str
    keys: tuple[str, ...]
    converters: tuple[Converter, ...]
    fixed: Mapping[str, Any]

    def parameters(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        columns = {
            key: [row[key] for row in rows]
            if convert is _same
            else [convert(row[key]) for row in rows]
            for key, convert in zip(self.keys, self.converters, strict=True)
        }
        return {**self.fixed, **columns}


# A bind as SQLAlchemy renders it for psycopg: `%(name)s::TYPE`.
_CAST = r"::(TIMESTAMP WITH(?:OUT)? TIME ZONE|[A-Z][A-Z0-9_]*)"


def _unnested_sql(sql: str, row_keys: Sequence[str]) -> str:
    """Rewrite a one-row INSERT or UPDATE so that each row key reads from `v`, a relation
    of the unnested array parameters."""
    arrays, names = [], []
    for key in row_keys:
        found = re.search(rf"%\({key}\)s{_CAST}", sql)
        if found is None:
            raise ValueError(f"bulk statement has no typed bind {key!r}: {sql}")
        cast = found.group(1)
        # JSON has no array input of its own worth relying on: text arrays, cast per value.
        # The arrays go in binary (`%b`): in text form psycopg escapes every element with a
        # regular expression, which was a fifth of ingest's CPU on PostgreSQL.
        column = f'v."{key}"'
        value, array_type = (f"{column}::JSON", "TEXT") if cast == "JSON" else (column, cast)
        sql = sql.replace(found.group(0), value)
        arrays.append(f"%({key})b::{array_type}[]")
        names.append(f'"{key}"')
    source = f"unnest({', '.join(arrays)}) AS v({', '.join(names)})"
    if sql.startswith("INSERT"):
        one_row = re.fullmatch(r"(.*?) VALUES \((.*?)\)( ON CONFLICT .*)?", sql, re.DOTALL)
        if one_row is None or " RETURNING " in sql:
            raise ValueError(f"bulk INSERT must be a plain one-row VALUES (inline): {sql}")
        head, values, conflict = one_row.groups()
        return f"{head} SELECT {values} FROM {source}{conflict or ''}"
    head, where = sql.split(" WHERE ", 1)
    return f"{head} FROM {source} WHERE {where}"


class BulkWrite:
    """An INSERT or UPDATE with bind parameters named by `keys`, run for many rows at once."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str]) -> None:
        self._statement = statement
        self._keys = tuple(keys)
        self._prepared: dict[str, _Prepared | _Unnested] = {}

    def _prepare(self, dialect: Dialect) -> "_Prepared | _Unnested":
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
            convert = {key: _converter(binds[key].type, dialect) for key in keys}
            if dialect.name == "postgresql":
                row_keys = tuple(key for key in keys if key not in fixed)
                prepared = _Unnested(
                    _unnested_sql(str(compiled), row_keys),
                    row_keys,
                    tuple(convert[key] for key in row_keys),
                    {key: convert[key](value) for key, value in fixed.items()},
                )
            else:
                converters = tuple(convert[key] for key in keys)
                prepared = _Prepared(str(compiled), keys, converters, fixed, compiled.positional)
            self._prepared[dialect.name] = prepared
        return prepared

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        prepared = self._prepare(connection.dialect)
        if isinstance(prepared, _Unnested):
            connection.exec_driver_sql(prepared.sql, prepared.parameters(rows))
        else:
            connection.exec_driver_sql(prepared.sql, [prepared.parameters(row) for row in rows])
