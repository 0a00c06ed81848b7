"""Reading and checking one config file: every mistake is one line naming the file and the key.

A config file is read by people who copy snippets between projects, so a typo must not be
silently ignored (``exclued = [...]`` would quietly scan ``vendor/``) and a wrong type must say
what was expected. TOML is parsed only here, and only when a config file exists, so that a run
without one pays nothing for it.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..engine.rules import BUILTIN_RULES, MAX_BODY, Rule, compile_body_pattern
from ..errors import FatalError
from ..models import printable
from .locate import PYPROJECT, NotATable, pyproject_table, toml_module

_RULE_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
# At least three characters: the engine anchors its literal search on the first three bytes,
# and a one- or two-letter prefix would turn every ordinary word into a candidate.
_PREFIX = re.compile(r"[A-Za-z0-9_-]{3,64}\Z")
_RULE_KEYS = ("id", "prefix", "body", "description", "revoke")
_VET_BUDGET = 0.02  # seconds a body pattern may take on one 4 KiB probe; sane ones take µs
# One character of each class a token body is made of: `\d`, `[A-Z]` or `\w` names none.
_CLASS_SAMPLES = ("0", "A", "a", "_", "-")
_PROBE_CHARS = 12  # characters the pattern names, probed besides the class samples
_PROBE_TAIL = 256  # at most this much of the pattern's own text ends a probe
_CUSTOM_REVOKE = "Revoke it with whoever issued it."  # where it sits: report.human.next_step


def read_table(path: str) -> Optional[Dict[str, Any]]:
    """Our table from ``path``: the whole file, or ``tool.copera-secretscan`` of a pyproject.

    None when a pyproject has no such table (it may only name us, say in a dependency list):
    :func:`~.locate.find_config` cannot parse TOML, so this is where "maybe" becomes yes or no.
    """
    doc = _document(path)
    if os.path.basename(path) != PYPROJECT:
        return doc
    try:
        return pyproject_table(doc)
    except NotATable as exc:
        raise FatalError(f"{path}: {exc.key}: expected a table, got {kind(exc.value)}") from exc


def _document(path: str) -> Dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise FatalError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FatalError(f"{path}: config is not UTF-8 text") from exc
    return _toml(text, path)


def _toml(text: str, path: str) -> Dict[str, Any]:
    """The parsed document; whatever hostile text makes the parser raise is one line."""
    toml: Any = toml_module()
    try:
        doc: Dict[str, Any] = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        raise FatalError(f"{path}: invalid TOML: {exc}") from exc
    except RecursionError as exc:  # a = [[[[...]]]] thousands deep: the parser recurses
        raise FatalError(f"{path}: invalid TOML: nested too deeply") from exc
    except ValueError as exc:  # int() refuses a number of thousands of digits
        raise FatalError(f"{path}: invalid TOML: number too long") from exc
    return doc


def parse(table: Dict[str, Any], path: str) -> Dict[str, Any]:
    """Checked values keyed like :class:`~.config.Settings` fields (paths made absolute)."""
    unknown = sorted(set(table) - set(_CHECKS))
    if unknown:
        expected = ", ".join(sorted(_CHECKS))
        raise FatalError(f"{path}: unknown key {unknown[0]!r} (expected one of: {expected})")
    base = os.path.dirname(os.path.abspath(path))
    values = {key: _CHECKS[key](value, f"{path}: {key}", base) for key, value in table.items()}
    wrong = disabled_problem(values.get("disable_rules", ()), values.get("rules", ()))
    if wrong:
        raise FatalError(f"{path}: disable_rules: {wrong}")
    return values


def disabled_problem(disabled: Sequence[str], custom: Sequence[Rule]) -> Optional[str]:
    """Why the rules ``disabled`` names cannot be turned off, or None when they can.

    An unknown id is a typo that would leave the rule on; turning every rule off would make
    every scan pass without looking, which a gate must never do silently."""
    known = [rule.rule_id for rule in (*BUILTIN_RULES, *custom)]
    unknown = [rule_id for rule_id in disabled if rule_id not in known]
    if unknown:
        return f"no rule {unknown[0]!r} (expected one of: {', '.join(known)})"
    if set(known) <= set(disabled):
        return "every rule is disabled, so nothing would ever be reported"
    return None


def kind(value: Any) -> str:
    """A value's type in TOML words, for "expected X, got Y" messages."""
    names: Tuple[Tuple[type, str], ...] = ((bool, "a boolean"), (int, "an integer"))
    names += ((float, "a float"), (str, "a string"), (list, "an array"), (dict, "a table"))
    return next((name for typ, name in names if isinstance(value, typ)), "a date or time")


def _strings(value: Any, where: str, base: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FatalError(f"{where}: expected an array of strings, got {kind(value)}")
    if any(not item.strip() for item in value):
        raise FatalError(f"{where}: expected an array of non-empty strings, got an empty one")
    return tuple(value)


def _patterns(value: Any, where: str, base: str) -> Tuple[str, ...]:
    patterns = _strings(value, where, base)
    if not patterns:
        return patterns  # nothing to check: pathspec's import is a fifth of a report's start-up
    import pathspec  # deferred: only configs with excludes need it

    for pattern in patterns:  # one at a time, so the message names the pattern at fault
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except (ValueError, TypeError, re.error) as exc:  # "[z-a]" fails in re, not pathspec
            raise FatalError(
                f"{where}: invalid gitignore-style pattern {pattern!r}: {exc}"
            ) from exc
    return patterns


def check_patterns(patterns: Sequence[str], where: str) -> Tuple[str, ...]:
    """``patterns`` checked as the config's ``exclude`` is (``--exclude`` reuses this)."""
    return _patterns(list(patterns), where, "")


def _min_length(value: Any, where: str, base: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BODY:
        got = kind(value) if not isinstance(value, int) or isinstance(value, bool) else value
        raise FatalError(f"{where}: expected an integer from 1 to {MAX_BODY}, got {got}")
    return value


def _count(value: Any, where: str, base: str) -> int:
    """A cap: a whole number, 0 or more (``archive_depth = 0`` turns archives off)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        got = kind(value) if not isinstance(value, int) or isinstance(value, bool) else value
        raise FatalError(f"{where}: expected an integer of 0 or more, got {got}")
    return value


def _baseline(value: Any, where: str, base: str) -> str:
    if not isinstance(value, str) or not value.strip():
        got = kind(value) if not isinstance(value, str) else "an empty string"
        raise FatalError(f"{where}: expected a file path (a string), got {got}")
    return os.path.normpath(os.path.join(base, value))


def _boolean(value: Any, where: str, base: str) -> bool:
    if not isinstance(value, bool):
        raise FatalError(f"{where}: expected true or false, got {kind(value)}")
    return value


def _rules(value: Any, where: str, base: str) -> Tuple[Rule, ...]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise FatalError(f"{where}: expected [[rules]] tables, got {kind(value)}")
    rules: List[Rule] = []
    for index, table in enumerate(value):
        rule = _rule(table, f"{where}[{index}]")
        _check_unique(rule, rules, f"{where}[{index}]")
        rules.append(rule)
    return tuple(rules)


def _rule(table: Dict[str, Any], where: str) -> Rule:
    unknown = sorted(set(table) - set(_RULE_KEYS))
    if unknown:
        raise FatalError(
            f"{where}: unknown key {unknown[0]!r} (expected one of: {', '.join(_RULE_KEYS)})"
        )
    for key in ("id", "prefix"):
        if key not in table:
            raise FatalError(f"{where}: missing {key!r}")
    text = {key: _text(table, key, where) for key in _RULE_KEYS if key in table}
    if not _RULE_ID.match(text["id"]):
        raise FatalError(
            f"{where}.id: expected lowercase letters, digits, '.', '_' or '-' (at most 64), "
            f"got {text['id']!r}"
        )
    if not _PREFIX.match(text["prefix"]):
        raise FatalError(
            f"{where}.prefix: expected 3 to 64 token characters (A-Z a-z 0-9 _ -), "
            f"got {text['prefix']!r}"
        )
    if "body" in text:
        _check_body(text["body"], f"{where}.body")
    return Rule(
        rule_id=text["id"],
        prefix=text["prefix"],
        name=text.get("description", f"token matching custom rule {text['id']}"),
        acts_as="whoever issued it (custom rule)",
        revoke=text.get("revoke", _CUSTOM_REVOKE),
        body_pattern=text.get("body"),
    )


def _text(table: Dict[str, Any], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value:
        got = kind(value) if not isinstance(value, str) else "an empty string"
        raise FatalError(f"{where}.{key}: expected a non-empty string, got {got}")
    if not value.isprintable():  # a rule's text is printed in every report, to terminals too
        raise FatalError(f"{where}.{key}: control characters are not allowed: {printable(value)}")
    return value


def _check_unique(rule: Rule, earlier: List[Rule], where: str) -> None:
    for other in (*BUILTIN_RULES, *earlier):
        builtin = " built-in" if other in BUILTIN_RULES else ""
        if other.rule_id == rule.rule_id:
            raise FatalError(f"{where}.id: {rule.rule_id!r} is already the id of a{builtin} rule")
        if other.prefix == rule.prefix:
            raise FatalError(
                f"{where}.prefix: {rule.prefix!r} is already the prefix of{builtin} rule "
                f"{other.rule_id!r}"
            )


def _check_body(pattern: str, where: str) -> None:
    """Compile the pattern and refuse one that backtracks badly on a run of one or two
    characters.

    The per-candidate timeout in :func:`~.rules.body_end` stops a pattern that hangs, but a
    pattern that is merely very slow per candidate (``(a+)+$`` is, in ``regex``) would still
    turn a file full of candidates into a commit that seems to hang. Probing at load time with
    4 KiB runs (:func:`_probes`) fails such a config at once and clearly.
    """
    try:
        compiled = compile_body_pattern(pattern)
    except FatalError as exc:
        raise FatalError(f"{where}: {exc}") from exc
    for unit, probe in _probes(pattern):
        if _too_slow(compiled, probe) and _too_slow(compiled, probe):  # twice: not a hiccup
            raise FatalError(
                f"{where}: pattern {pattern!r} backtracks catastrophically (over "
                f"{_VET_BUDGET:g}s on {len(probe)} bytes of {unit!r} repeated); simplify it"
            )


def _probes(pattern: str) -> List[Tuple[str, bytes]]:
    """(unit, probe): MAX_BODY bytes of a unit repeated, then an end no body continues with.

    Units are one sample of each character class a body holds (``(\\d|\\d\\d)+$`` names no
    digit), up to _PROBE_CHARS characters the pattern names, and every pair of those
    (``(ab|a|b)+$`` needs one). Each run ends in ``!``, then again in a NUL, a space, a
    newline and the pattern's own text. ``(.|..)+$`` and ``(\\S|\\S\\S)+$`` run on over a NUL
    and fail only at a space or a newline that does not end the input; and ``regex`` fails at
    once when a literal the pattern requires is missing from the input, so ``([a-z0-9]+)+!``
    backtracks only when a ``!`` is there, just not after the run. At most 2 * (17 + 136)
    probes, each over quickly for a sane pattern.
    """
    named = {c for c in pattern if c.isascii() and c.isprintable() and c not in " \\"}
    chars = [*_CLASS_SAMPLES, *sorted(named - set(_CLASS_SAMPLES), key=_literal_first)]
    chars = chars[: len(_CLASS_SAMPLES) + _PROBE_CHARS]
    units = chars + [a + b for a, b in itertools.combinations(chars, 2)]
    ends = (b"!", b"\0 \n" + pattern.encode("utf-8")[:_PROBE_TAIL])
    return [(unit, _run(unit, end)) for end in ends for unit in units]


def _literal_first(char: str) -> Tuple[bool, str]:
    """Token characters before punctuation, most of which is regex syntax (``(|)+``) but may be
    a literal (``(=|==)+$``)."""
    return not (char.isalnum() or char in "_-"), char


def _run(unit: str, end: bytes) -> bytes:
    return (unit * MAX_BODY)[: MAX_BODY - len(end)].encode("ascii") + end


def _too_slow(compiled: Any, probe: bytes) -> bool:
    try:
        compiled.match(probe, 0, MAX_BODY, timeout=_VET_BUDGET)
    except TimeoutError:
        return True
    return False


_CHECKS: Dict[str, Callable[[Any, str, str], Any]] = {
    "exclude": _patterns,
    "disable_rules": _strings,
    "min_length": _min_length,
    "allow_markers": _strings,
    "placeholders": _strings,
    "baseline": _baseline,
    "fail_on_unrotated": _boolean,
    "rules": _rules,
    "archive_depth": _count,
    "archive_members": _count,
    "archive_bytes": _count,
    "archive_total_bytes": _count,
}
