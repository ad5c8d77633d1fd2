"""SQL pieces of QIDO matching that must read the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement, SQLColumnExpression, func

LIKE_ESCAPE = "/"
"""Escape character of our LIKE patterns; "/" needs no quoting in any SQL dialect."""


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
