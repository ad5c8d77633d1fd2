"""SQL pieces of QIDO matching that must read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
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


def has_wildcards(value: str) -> bool:
    return "*" in value or "?" in value


def wildcard_like(column: SQLColumnExpression[str], value: str) -> ColumnElement[bool]:
    """PS3.4 C.2.2.2.4 wildcard matching (``*`` any run, ``?`` one character), case-insensitive.

    ``lower()`` on both sides makes SQLite (whose LIKE ignores ASCII case) and PostgreSQL (whose
    LIKE does not) agree; SQLite's ``lower()`` folds ASCII letters only.
    """
    pattern = "".join(
        "%" if char == "*" else "_" if char == "?" else _escaped(char) for char in value
    )
    return func.lower(column).like(func.lower(pattern), escape=LIKE_ESCAPE)


def _escaped(char: str) -> str:
    return LIKE_ESCAPE + char if char in {LIKE_ESCAPE, "%", "_"} else char
