"""Settings: built-in defaults, overridden by a config file, overridden by command-line flags.

The config lives in ``.copera-secretscan.toml`` or ``[tool.copera-secretscan]`` of
``pyproject.toml`` at the repository root (first found wins; ``--config`` overrides). The
repository root is the git work tree containing the working directory, so running from a
subdirectory finds the same config and the baseline keys the same paths. Every value remembers
where it came from, because "why is this file skipped?" is the first question a config raises.
"""

from __future__ import annotations

import os
from types import MappingProxyType
from typing import Any, Callable, FrozenSet, List, Mapping, NamedTuple, Optional, Tuple

from ..engine.archives import Limits
from ..engine.rules import BUILTIN_RULES, DEFAULT_MIN_LENGTH, Rule, Ruleset
from ..errors import FatalError
from ..models import compared_by
from .locate import find_config

TYPE_CHECKING = False  # mypy treats this name as true
if TYPE_CHECKING:
    from ..sources.git import Asked

DEFAULT = "default"
COMMAND_LINE = "command line"
ARCHIVE_KEYS = ("archive_depth", "archive_members", "archive_bytes", "archive_total_bytes")
# "rules" last: describe() prints it as tables after the plain keys
KEYS = (
    "exclude",
    "disable_rules",
    "min_length",
    "allow_markers",
    "placeholders",
    "baseline",
    "fail_on_unrotated",
    *ARCHIVE_KEYS,
    "rules",
)
DEFAULT_LIMITS = Limits()
_NOWHERE: Mapping[str, str] = MappingProxyType({})  # shared by every Settings: read-only
_IDENTITY = -2  # the fields before ``asked`` and ``origins``

Excluder = Callable[..., bool]  # (absolute path, is_dir=False) -> excluded by configuration?


@compared_by(_IDENTITY)
class Settings(NamedTuple):
    """What a run is set to do. Two settings are equal whatever each says of where its values
    came from (``origins``, which ``config show`` prints)."""

    exclude: Tuple[str, ...] = ()
    # --exclude patterns: read from the repository root, as the config's are from its directory
    exclude_flags: Tuple[str, ...] = ()
    disable_rules: Tuple[str, ...] = ()  # ids of built-in or custom rules not to report
    min_length: int = DEFAULT_MIN_LENGTH
    allow_markers: Tuple[str, ...] = ()
    placeholders: Tuple[str, ...] = ()
    baseline: Optional[str] = None  # the baseline to apply, if any (a path from the cwd)
    fail_on_unrotated: bool = False  # exit 1 when an entry marked a real leak hides a token
    rules: Tuple[Rule, ...] = ()  # custom rules, in addition to the built-in ones
    # How far archives are expanded (engine/archives.py): caps on nesting, members, bytes.
    archive_depth: int = DEFAULT_LIMITS.depth
    archive_members: int = DEFAULT_LIMITS.members
    archive_bytes: int = DEFAULT_LIMITS.bytes
    archive_total_bytes: int = DEFAULT_LIMITS.total
    root: str = "."  # the repository root: baseline entries are keyed by paths relative to it
    config_file: Optional[str] = None  # absolute path of the config file read, if any
    # Not part of the identity (see __eq__), from here on.
    # git's answer for the directory the settings were looked up from, which the walk reuses
    asked: Optional[Asked] = None
    origins: Mapping[str, str] = _NOWHERE  # key -> where it came from

    def ruleset(self) -> Ruleset:
        return Ruleset(
            rules=tuple(r for r in BUILTIN_RULES + self.rules if r.rule_id not in self.disabled),
            min_length=self.min_length,
            placeholders=frozenset(word.lower() for word in self.placeholders),
        )

    def archive_limits(self) -> Limits:
        return Limits(
            self.archive_depth, self.archive_members, self.archive_bytes, self.archive_total_bytes
        )

    @property
    def disabled(self) -> FrozenSet[str]:
        return frozenset(self.disable_rules)

    @property
    def exclude_base(self) -> str:
        """Exclude patterns read like a ``.gitignore`` in the config file's directory."""
        return os.path.dirname(self.config_file) if self.config_file else self.root

    def excluder(self) -> Optional[Excluder]:
        """The walker's exclude predicate, or None when nothing is excluded (no pathspec cost).

        With the config at the root (the usual case) both lists are one, the command line's
        last, so ``--exclude '!keep.js'`` can take back a config pattern as in a gitignore."""
        groups = [(self.exclude + self.exclude_flags, self.root)]
        if os.path.abspath(self.exclude_base) != os.path.abspath(self.root):
            groups = [(self.exclude, self.exclude_base), (self.exclude_flags, self.root)]
        parts = [make_excluder(patterns, base) for patterns, base in groups if patterns]
        if len(parts) < 2:
            return parts[0] if parts else None
        return lambda path, is_dir=False: any(part(path, is_dir) for part in parts)

    def origin(self, key: str) -> str:
        return self.origins.get(key, DEFAULT)

    def with_flags(self, **changes: Any) -> Settings:
        """These settings with command-line values laid on top (None means "flag not given")."""
        given = {key: value for key, value in changes.items() if value is not None}
        if not given:
            return self
        origins = {**self.origins, **{key: COMMAND_LINE for key in given}}
        return self._replace(origins=origins, **given)

    def with_lists(self, exclude: Tuple[str, ...], disable_rules: Tuple[str, ...]) -> Settings:
        """These settings with the command line's ``--exclude`` and ``--disable-rule`` values
        added to the config's lists (a flag adds; it never silently drops a config entry)."""
        origins = dict(self.origins)
        for key, added in (("exclude", exclude), ("disable_rules", disable_rules)):
            if added:
                was = self.origin(key)
                origins[key] = COMMAND_LINE if was == DEFAULT else f"{was} + {COMMAND_LINE}"
        return self._replace(
            exclude_flags=self.exclude_flags + tuple(exclude),
            disable_rules=self.disable_rules + tuple(disable_rules),
            origins=origins,
        )


def make_excluder(patterns: Tuple[str, ...], base: str) -> Excluder:
    """A predicate over absolute paths for gitignore-style ``patterns`` relative to ``base``."""
    import pathspec  # deferred: only configs with excludes need it

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)

    def excluded(path: str, is_dir: bool = False) -> bool:
        rel = os.path.relpath(os.path.abspath(path), base)
        if rel == os.curdir or rel.split(os.sep, 1)[0] == os.pardir:
            return False  # outside the config's directory: its patterns do not reach there
        rel = rel.replace(os.sep, "/")
        return bool(spec.match_file(rel + "/" if is_dir else rel))

    return excluded


def repository_root(start: str) -> str:
    """The git work tree containing ``start``, else ``start`` itself.

    When git cannot answer inside a work tree (the scan says so), the directory holding the
    ``.git`` found above ``start``: the config and the baseline's keys must not quietly move.
    """
    return _repository(start)[0]


def _repository(start: str) -> Tuple[str, Optional[Asked]]:
    """(:func:`repository_root`, git's answer for ``start`` when it gave one)."""
    from ..sources import git

    try:
        found = git.work_tree(start)
    except git.NoAnswer as exc:
        return exc.root, None
    return (found.root if found else os.path.abspath(start)), (os.path.abspath(start), found)


def load_settings(config_file: Optional[str] = None, start: str = ".") -> Settings:
    """Settings for a run: from ``config_file`` if given, else the one found at the root."""
    root, asked = _repository(start)
    if config_file is not None and not os.path.isfile(config_file):
        raise FatalError(f"{config_file}: no such config file")
    path = config_file or find_config(root)
    if path is None:
        return Settings(root=root, asked=asked, origins=dict.fromkeys(KEYS, DEFAULT))
    from . import file as configfile  # deferred: TOML is parsed only when a config file may exist

    shown = shown_path(path)  # messages name the file as the user would type it
    table = configfile.read_table(shown)
    if table is None and config_file is None:  # a pyproject that only mentions us
        return Settings(root=root, asked=asked, origins=dict.fromkeys(KEYS, DEFAULT))
    values = configfile.parse(table or {}, shown)
    if "baseline" in values:
        values["baseline"] = shown_path(values["baseline"])
    origins = {key: shown if key in values else DEFAULT for key in KEYS}
    return Settings(
        root=root, config_file=os.path.abspath(path), asked=asked, origins=origins, **values
    )


def command_line_settings(
    start: str,
    config_file: Optional[str] = None,
    min_length: Optional[int] = None,
    baseline: Optional[str] = None,
    fail_on_unrotated: Optional[bool] = None,
) -> Settings:
    """Config file settings (found from ``start``) with command-line flags laid on top: the CLI
    and the lean path of ``quick.py`` must read one command line into the same settings."""
    settings = load_settings(config_file, start=start)
    return settings.with_flags(
        min_length=min_length, baseline=baseline, fail_on_unrotated=fail_on_unrotated
    )


def shown_path(path: str) -> str:
    """``path`` relative to the working directory when under it, for messages."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, os.getcwd())
    return absolute if rel.split(os.sep, 1)[0] == os.pardir else rel.replace(os.sep, "/")


def describe(settings: Settings) -> str:
    """The effective configuration as TOML, each value followed by where it came from."""
    lines = [
        "# copera-secretscan: effective configuration",
        f"# repository root: {settings.root}",
        f"# config file: {shown_path(settings.config_file) if settings.config_file else 'none'}",
        "",
    ]
    rows = [(f"{key} = {_toml_value(settings, key)}", settings.origin(key)) for key in KEYS[:-1]]
    width = max(len(text) for text, _ in rows)
    lines += [f"{text.ljust(width)}  # {origin}" for text, origin in rows]
    lines += ["", "# built-in rules"]
    lines += [f"#   {rule.rule_id}: {rule.prefix}{_off(settings, rule)}" for rule in BUILTIN_RULES]
    for rule in settings.rules:
        lines += ["", f"[[rules]]  # {settings.origin('rules')}", *_rule_lines(rule)]
    return "\n".join(lines) + "\n"


def _off(settings: Settings, rule: Rule) -> str:
    return " (disabled)" if rule.rule_id in settings.disabled else ""


def _toml_value(settings: Settings, key: str) -> str:
    value: Any = getattr(settings, key)
    if key == "baseline":
        return _toml(shown_path(value) if value else "")
    return _toml(list(value) if isinstance(value, tuple) else value)


def _rule_lines(rule: Rule) -> List[str]:
    values = [("id", rule.rule_id), ("prefix", rule.prefix), ("body", rule.body_pattern)]
    values += [("description", rule.name), ("revoke", rule.revoke)]
    return [f"{key} = {_toml(value)}" for key, value in values if value]


def _toml(value: Any) -> str:
    """A value as TOML (JSON's spelling of strings, arrays and numbers is valid TOML), readable
    Unicode kept, but every character that could act on a terminal (C1 controls, bidirectional
    overrides) written as an escape, as JSON already writes the C0 ones."""
    import json  # deferred: only ``config`` prints TOML, and every scan loads this module

    text = json.dumps(value, ensure_ascii=False)
    return "".join(char if char.isprintable() else _toml_escape(char) for char in text)


def _toml_escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
