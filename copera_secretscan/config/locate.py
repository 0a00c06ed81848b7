"""Where a configuration file may be, answered with nothing but ``os``.

The lean hook check (``quick.py``) calls this before deciding whether it may skip loading the
full scanner, so it must stay free of third-party and heavy standard-library imports. It cannot
parse TOML, so for ``pyproject.toml`` it answers "maybe"; whoever parses the file then asks
:func:`pyproject_table` whether our table is really there (:mod:`.file` to read it, the lean
check to decide it must hand over). A "no" here must be certain, or a config would be
silently ignored.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from types import ModuleType

CONFIG_FILE = ".copera-secretscan.toml"
PYPROJECT = "pyproject.toml"
TABLE = "copera-secretscan"  # ``[tool.copera-secretscan]`` of a pyproject
PYPROJECT_NAME = TABLE.encode("ascii")
# A TOML key can also be spelled with escapes ("\u0063opera-secretscan"): any escape that can
# stand for a letter makes the answer "maybe" too. \x is TOML 1.1, which newer tomllibs read.
_ESCAPES = (b"\\u", b"\\U", b"\\x")
BASELINE_FILE = ".copera-secretscan-baseline.json"


def toml_module() -> ModuleType:
    """``tomllib``, or its backport ``tomli`` (a dependency on Python < 3.11 only)."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli

    return tomli


def find_config(start: str) -> str | None:
    """``.copera-secretscan.toml`` in ``start``, else ``pyproject.toml`` if it may have our table.

    ``[tool.copera-secretscan]``, ``[tool."copera-secretscan"]``, ``[tool]`` with a
    ``copera-secretscan`` key and dotted keys are all the same table, so no byte pattern short
    of a parser decides it; the name (or an escape) appearing anywhere is enough for "maybe".
    """
    candidate = os.path.join(start, CONFIG_FILE)
    if os.path.isfile(candidate):
        return candidate
    pyproject = os.path.join(start, PYPROJECT)
    if not os.path.isfile(pyproject):
        return None
    try:
        with open(pyproject, "rb") as handle:
            data = handle.read()
    except OSError:
        return pyproject  # unreadable: the config loader reports it rather than we skip it
    if PYPROJECT_NAME in data or any(escape in data for escape in _ESCAPES):
        return pyproject
    return None


class NotATable(ValueError):
    """``key`` of a pyproject holds ``value``, where a table must be."""

    def __init__(self, key: str, value: object) -> None:
        super().__init__(f"{key}: expected a table")
        self.key = key
        self.value = value


def pyproject_table(doc: dict) -> dict | None:
    """``tool.copera-secretscan`` of a parsed pyproject, None when it has none.

    Many pyprojects only name us (our own package name, a dev dependency, a console script).
    Raises :class:`NotATable` when ``tool`` or our key is not a table (``tool = "x"``,
    ``[[tool]]``): there is no table to look into, and that is an error to report, not "none".
    """
    tool = doc.get("tool", {})
    if not isinstance(tool, dict):
        raise NotATable("tool", tool)
    table = tool.get(TABLE)
    if table is not None and not isinstance(table, dict):
        raise NotATable(f"tool.{TABLE}", table)
    return table
