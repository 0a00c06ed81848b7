"""Settings: built-in defaults, overridden by a config file, overridden by command-line flags.

The config lives in ``.copera-secretscan.toml`` or ``[tool.copera-secretscan]`` of
``pyproject.toml`` at the repository root (first found wins; ``--config`` overrides).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from .locate import find_config  # noqa: F401  (re-exported)
from .rules import BUILTIN_RULES, DEFAULT_MIN_LENGTH, Rule, Ruleset


@dataclass(frozen=True)
class Settings:
    exclude: Tuple[str, ...] = ()
    min_length: int = DEFAULT_MIN_LENGTH
    allow_markers: Tuple[str, ...] = ()
    placeholders: Tuple[str, ...] = ()
    baseline: Optional[str] = None
    rules: Tuple[Rule, ...] = ()  # custom rules, in addition to the built-in ones
    root: str = "."  # directory that exclude patterns and the baseline path are relative to
    origins: Dict[str, str] = field(
        default_factory=dict, compare=False
    )  # key -> where it came from

    def ruleset(self) -> Ruleset:
        return Ruleset(
            rules=BUILTIN_RULES + self.rules,
            min_length=self.min_length,
            placeholders=frozenset(word.lower() for word in self.placeholders),
        )


def load_settings(config_file: Optional[str] = None, start: str = ".") -> Settings:
    """Settings for a run: from ``config_file`` if given, else the one found at ``start``."""
    return Settings(root=os.path.abspath(start))
