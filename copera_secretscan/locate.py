"""Where a configuration file would be, answered with nothing but ``os``.

The pre-commit hook's fast path calls this before deciding whether it may skip loading the full
scanner, so it must stay free of third-party and heavy standard-library imports.
"""

from __future__ import annotations

import os

CONFIG_FILE = ".copera-secretscan.toml"
PYPROJECT = "pyproject.toml"
PYPROJECT_SECTION = b"[tool.copera-secretscan]"
BASELINE_FILE = ".copera-secretscan-baseline.json"


def find_config(start: str) -> str | None:
    """``.copera-secretscan.toml`` in ``start``, else ``pyproject.toml`` if it has our table."""
    candidate = os.path.join(start, CONFIG_FILE)
    if os.path.isfile(candidate):
        return candidate
    pyproject = os.path.join(start, PYPROJECT)
    try:
        with open(pyproject, "rb") as handle:
            if PYPROJECT_SECTION in handle.read():
                return pyproject
    except OSError:
        pass
    return None
