"""The Copera token kinds: the one table that every fact about a kind is derived from.

A row holds what a person and a report need to know about one kind of token: its prefix, the
rule id reports and baselines key on, its name, who it acts as, how to revoke it, and the SARIF
``security-severity`` score that GitHub code scanning ranks alerts by (>= 9.0 critical, >= 7.0
high) and GitLab's severity words follow. The built-in rules, the lean hook's anchor, the
severities, the help texts and the remediation advice all derive from :data:`KINDS`, so adding a
kind is one row here plus its tests, and the prefixes are written down in this module only.

The lean pre-commit check imports this module, so it must stay cheap: no import at all at run
time; ``typing`` is seen by mypy only.
"""

from __future__ import annotations

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import Optional, Tuple


FIELDS = ("prefix", "rule_id", "name", "acts_as", "revoke", "severity")


class Kind:
    """One row of the table: a value, compared and hashed by its fields.

    A plain class, not a named tuple: the lean hook imports this module, and ``collections``
    (which ``namedtuple`` needs) is not loaded when Python starts.
    """

    __slots__ = FIELDS

    def __init__(
        self, prefix: str, rule_id: str, name: str, acts_as: str, revoke: str, severity: float
    ) -> None:
        self.prefix, self.rule_id, self.name = prefix, rule_id, name
        self.acts_as = acts_as
        self.revoke = revoke  # how to revoke it; what to do where it sits: report.human.next_step
        self.severity = severity  # SARIF security-severity, 0.0 to 10.0

    def _values(self) -> Tuple[str, str, str, str, str, float]:
        return (self.prefix, self.rule_id, self.name, self.acts_as, self.revoke, self.severity)

    def _replace(self, **changes: object) -> Kind:
        """A copy with some fields changed, as a named tuple's ``_replace`` makes one."""
        now = dict(zip(FIELDS, self._values()), **changes)
        return Kind(**now)  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Kind) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(FIELDS, self._values()))
        return f"Kind({fields})"


# A personal token acts as a person with the full API; an integration key is scoped to its
# boards; an MCP token is short-lived. The scores rank them in that order.
KINDS: Tuple[Kind, ...] = (
    Kind(
        "cp_pat_",
        "copera-pat",
        "Copera Personal Access Token",
        "the user who created it, with full API access",
        "Revoke it now in Copera: Workspace Settings → Integrations → Personal Tokens, "
        "then create a new one.",
        9.0,
    ),
    Kind(
        "cp_key_",
        "copera-key",
        "Copera Integration API Key",
        "a bot integration with access to its boards and channels",
        "Revoke it now in Copera: Workspace Settings → Integrations → the integration's API "
        "keys, then issue a new key.",
        8.5,
    ),
    Kind(
        "cp_oat_",
        "copera-oat",
        "Copera MCP OAuth token",
        "a user, through an MCP client",
        "Revoke it now: disconnect the MCP client in Copera (Workspace Settings → Integrations) "
        "so the token and its refresh token die.",
        7.5,
    ),
)


def by_rule_id(rule_id: str) -> Optional[Kind]:
    """The kind with this rule id, read from the table at call time (``None``: a custom rule)."""
    return next((kind for kind in KINDS if kind.rule_id == rule_id), None)


def prefixes() -> Tuple[str, ...]:
    """Every kind's prefix, in table order."""
    return tuple(kind.prefix for kind in KINDS)


def listed() -> str:
    """The prefixes as help texts name them: ``a, b, c``."""
    return ", ".join(prefixes())


def common_prefix(words: Tuple[str, ...]) -> str:
    """The longest string every word starts with (``""`` for no words or nothing shared).

    The lean hook searches for this one literal: a file without it holds no token of any kind.
    An empty anchor is found everywhere, so the hook would hand every file to the full scanner:
    slower, never wrong.
    """
    if not words:
        return ""
    first, last = min(words), max(words)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def anchor() -> str:
    """The literal every token of every kind starts with."""
    return common_prefix(prefixes())
