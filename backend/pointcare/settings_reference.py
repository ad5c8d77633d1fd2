"""The settings reference (``docs/settings.md``), written from ``Settings`` itself.

Each setting's meaning is the docstring under its field in ``settings.py`` (attribute docstrings
are not kept at run time, so the source is read); its default is the field's own. A test fails
when the committed reference differs from what this writes, so the two cannot drift apart.

    python -m pointcare.settings_reference > docs/settings.md      (make docs)
"""

from __future__ import annotations

import ast
import inspect
import sys
from dataclasses import fields
from enum import Enum
from itertools import pairwise
from pathlib import Path

from pointcare import settings as settings_module
from pointcare.settings import ENV_PREFIX, Settings

HEADER = """\
# Settings reference

<!-- Written by `make docs` from the docstrings in backend/pointcare/settings.py: edit those. -->

Pointcare reads every setting from an environment variable when it starts; every one has a
default, and a value it cannot use stops start-up with a message naming the variable. Booleans
are `true`/`false` (also `yes`/`no`, `on`/`off`, `1`/`0`); sizes are bytes, durations the unit in
the name.

| variable | default | meaning |
|---|---|---|
"""


def field_docstrings() -> dict[str, str]:
    """Each ``Settings`` field's docstring, read from the class's source."""
    tree = ast.parse(inspect.getsource(settings_module))
    body = next(
        node.body
        for node in tree.body
        if isinstance(node, ast.ClassDef) and node.name == Settings.__name__
    )
    docs: dict[str, str] = {}
    for field, following in pairwise(body):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[field.target.id] = inspect.cleandoc(following.value.value)
    return docs


def _default(value: object) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value in ("", None) or value == ():
        return "empty"
    if isinstance(value, Path) and not value.is_absolute():
        return f"`./{value}`"
    if isinstance(value, tuple):
        return f"`{','.join(str(item) for item in value)}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    """One table cell: the docstring's paragraphs on one line, pipes escaped."""
    return " ".join(text.split()).replace("``", "`").replace("|", "\\|")


def render() -> str:
    docs = field_docstrings()
    defaults = Settings()
    rows = []
    for field in fields(Settings):
        if field.name not in docs:
            raise ValueError(f"Settings.{field.name} has no docstring")
        default = getattr(defaults, field.name)
        name = ENV_PREFIX + field.name.upper()
        rows.append(f"| `{name}` | {_default(default)} | {_cell(docs[field.name])} |")
    return HEADER + "\n".join(rows) + "\n"


def main() -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
