"""Rules: what the engine matches, and how a rule's body is matched.

A built-in rule is one row of :mod:`.kinds` (the table of token kinds). Copera does not publish
its token body format, so a built-in rule is a literal prefix plus a run of token characters;
the heuristics module decides whether that run looks random. Custom rules (a team's own
prefixes, from the config file) may bring their own body pattern: those are compiled with the
third-party ``regex`` module because it can abandon a match after a timeout, so a catastrophic
pattern cannot hang somebody's commit. ``regex`` is imported only then.
"""

from __future__ import annotations

import collections
import re

from .. import kinds
from ..errors import FatalError, PatternTimeout

# The lean hook loads this module to dismiss a `tcp_` (issue 14): its records are named tuples
# made without `typing` (and without dataclass machinery), which mypy reads as the classes below.
TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import Any, Dict, FrozenSet, NamedTuple, Optional, Tuple

    class _Rule(NamedTuple):
        rule_id: str
        prefix: str
        name: str
        acts_as: str
        revoke: str  # what to do, in one sentence a person can follow
        body_pattern: Optional[str] = None  # custom rules only; None = token characters

else:
    _Rule = collections.namedtuple(
        "Rule", "rule_id prefix name acts_as revoke body_pattern", defaults=(None,)
    )

TOKEN_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# A prefix must not continue a word: a letter, digit or `_` before it makes it no token.
WORD_CHARS = TOKEN_CHARS - {ord("-")}
MAX_BODY = 4096  # a longer run of token characters is not a credential; bounds streaming memory
DEFAULT_MIN_LENGTH = 16
DEFAULT_TIMEOUT = 1.0  # seconds one custom body pattern may spend on one candidate

_BODY = re.compile(rb"[A-Za-z0-9_-]{0,%d}" % MAX_BODY)


class Rule(_Rule):
    """One rule: a kind's prefix (or a custom one) and how its body is matched."""

    __slots__ = ()

    @property
    def prefix_bytes(self) -> bytes:
        return self.prefix.encode("ascii")


def builtin_rules() -> Tuple[Rule, ...]:
    """One rule per row of the kinds table, read at call time, in table order."""
    return tuple(
        Rule(kind.rule_id, kind.prefix, kind.name, kind.acts_as, kind.revoke)
        for kind in kinds.KINDS
    )


BUILTIN_RULES: Tuple[Rule, ...] = builtin_rules()

if TYPE_CHECKING:

    class _Ruleset(NamedTuple):
        rules: Tuple[Rule, ...] = BUILTIN_RULES
        min_length: int = DEFAULT_MIN_LENGTH
        placeholders: FrozenSet[str] = frozenset()  # extra placeholder words, lowercase
        timeout: float = DEFAULT_TIMEOUT

else:
    _Ruleset = collections.namedtuple(
        "Ruleset",
        "rules min_length placeholders timeout",
        defaults=(BUILTIN_RULES, DEFAULT_MIN_LENGTH, frozenset(), DEFAULT_TIMEOUT),
    )


class Ruleset(_Ruleset):
    """Everything the engine needs to know to decide what is a token.

    No ``__slots__``: the instance keeps its hash in its ``__dict__`` (``__hash__``)."""

    def __hash__(self) -> int:
        """Hashed once: the engine's caches (plans, prefilters) are keyed on the ruleset and
        looked up for every input, and hashing every rule's fields each time showed up in the
        profile of a tree scan."""
        cached: Optional[int] = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.rules, self.min_length, self.placeholders, self.timeout))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickled by its fields (for spawned workers): a hash cached in this process would
        be wrong in another, whose string hashes differ."""
        return (Ruleset, (self.rules, self.min_length, self.placeholders, self.timeout))

    def anchors(self) -> Dict[bytes, Tuple[Rule, ...]]:
        """Rules grouped by a short literal anchor, so one ``bytes.find`` pass serves several."""
        groups: Dict[bytes, Tuple[Rule, ...]] = {}
        for rule in self.rules:
            anchor = rule.prefix_bytes[:3]
            groups[anchor] = (*groups.get(anchor, ()), rule)
        return groups


def rule_by_id(rules: Tuple[Rule, ...], rule_id: str) -> Optional[Rule]:
    return next((rule for rule in rules if rule.rule_id == rule_id), None)


def body_end(rule: Rule, data: bytes, start: int, timeout: float) -> int:
    """Index just past the token body that begins at ``start`` (``start`` if there is none)."""
    if rule.body_pattern is None:
        match = _BODY.match(data, start)
        return match.end() if match else start
    pattern = compile_body_pattern(rule.body_pattern)
    try:
        found = pattern.match(data, start, start + MAX_BODY, timeout=timeout)
    except TimeoutError as exc:
        raise PatternTimeout(
            f"custom rule {rule.rule_id!r}: body pattern {rule.body_pattern!r} took longer than "
            f"{timeout:g}s on one candidate (catastrophic backtracking?); simplify the pattern"
        ) from exc
    return found.end() if found else start


_COMPILED: Dict[str, Any] = {}


def compile_body_pattern(pattern: str) -> Any:
    """Compile a custom body pattern (cached); a syntax error is a configuration error."""
    if pattern not in _COMPILED:
        import regex  # deferred: costs ~20 ms and only custom rules need it

        try:
            _COMPILED[pattern] = regex.compile(pattern.encode("utf-8"))
        except regex.error as exc:
            raise FatalError(f"invalid body pattern {pattern!r}: {exc}") from exc
    return _COMPILED[pattern]
