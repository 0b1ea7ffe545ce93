"""`column IN (…)` over a list given at execution, as each database takes it best.

SQLite gets the list expanded into one parameter per value. PostgreSQL gets one array and
`= ANY(…)`: an expanded list is a new query text for each length, which SQLAlchemy renders
and psycopg parses again on every execution (its cache skips long queries), a sixth of
ingest's CPU on PostgreSQL.
"""

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class OneOf(ColumnElement[bool]):
    """True where `column` is one of the list passed as parameter `name`."""

    inherit_cache = True
    type = Boolean()
    # A condition of its own: without this SQLite would get `… IN (…) = 1`, which no index
    # serves.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


@compiles(OneOf)
def _expanded(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "postgresql")
def _any_of_array(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    item = element.column.type
    # Unbounded: a cast to VARCHAR(n) would cut a longer value to a match it is not.
    array = bindparam(element.name, type_=ARRAY(String() if isinstance(item, String) else item))
    # In binary (`%b`): in text form psycopg escapes each element with a regular expression.
    values = compiler.process(array, **kw).replace(f"%({element.name})s", f"%({element.name})b")
    return f"{compiler.process(element.column, **kw)} = ANY({values})"
