"""SQL pieces of QIDO matching that must read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, SQLColumnExpression, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

LIKE_ESCAPE = "/"
"""Escape character of our LIKE patterns; "/" needs no quoting in any SQL dialect."""


class local_date(FunctionElement[date]):
    """The calendar date of a UTC timestamp column at a per-row offset (minutes) from UTC.

    A study is dated in its own local time (StudyDate), while the database holds UTC: matching
    ``StudyDate=20240501`` must shift each row by its own offset before taking the date.
    """

    type = Date()
    inherit_cache = True
    name = "local_date"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    moment, offset = list(element.clauses)
    # SQLite keeps UTCDateTime as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text; date() shifts and cuts it.
    return (
        f"date({compiler.process(moment, **kw)}, ({compiler.process(offset, **kw)}) || ' minutes')"
    )


@compiles(local_date)
def _local_date_postgresql(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    moment, offset = list(element.clauses)
    return (
        f"CAST(({compiler.process(moment, **kw)} AT TIME ZONE 'UTC') "
        f"+ make_interval(mins => {compiler.process(offset, **kw)}) AS DATE)"
    )


LARGEST_UTC_OFFSET = timedelta(days=1)
"""More than any offset a timestamp here can carry (Python's are under a day either way)."""


def local_days_window(
    moment: SQLColumnExpression[datetime], start: date | None, end: date | None
) -> list[ColumnElement[bool]]:
    """Conditions on a UTC timestamp column that every row whose *local* date (``local_date``)
    lies from ``start`` to ``end`` meets, whatever its offset from UTC: those days widened by a
    day on each side. They narrow nothing ``local_date`` keeps, and let an index on the column
    find the rows, which a condition on ``local_date`` alone cannot (it reads every row)."""
    conditions = []
    if start is not None:
        conditions.append(moment >= datetime.combine(start, time.min, UTC) - LARGEST_UTC_OFFSET)
    if end is not None:
        after = datetime.combine(end + timedelta(days=1), time.min, UTC)
        conditions.append(moment < after + LARGEST_UTC_OFFSET)
    return conditions


def has_wildcards(value: str) -> bool:
    return "*" in value or "?" in value


def wildcard_like(column: SQLColumnExpression[str], value: str) -> ColumnElement[bool]:
    """PS3.4 C.2.2.2.4 wildcard matching (``*`` any run, ``?`` one character), case-insensitive.

    ``lower()`` on both sides makes SQLite (whose LIKE ignores ASCII case) and PostgreSQL (whose
    LIKE does not) agree; SQLite's ``lower()`` folds ASCII letters only.
    """
    return func.lower(column).like(func.lower(_like_pattern(value)), escape=LIKE_ESCAPE)


def folded_like(column: SQLColumnExpression[str], folded: str) -> ColumnElement[bool]:
    """Wildcard matching of a column that holds folded text (``identity.names.fold``: lower
    case already) against a pattern folded the same way: ``wildcard_like`` without ``lower()``,
    which would give the same answers but hide the column from its index. A pattern with a
    fixed start (``abc*``) is then an index range scan (on PostgreSQL, through the column's
    ``varchar_pattern_ops`` index)."""
    return column.like(_like_pattern(folded), escape=LIKE_ESCAPE)


def _like_pattern(value: str) -> str:
    return "".join("%" if char == "*" else "_" if char == "?" else _escaped(char) for char in value)


def _escaped(char: str) -> str:
    return LIKE_ESCAPE + char if char in {LIKE_ESCAPE, "%", "_"} else char
