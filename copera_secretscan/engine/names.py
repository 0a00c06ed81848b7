"""Tokens in file and directory names: git stores names as it stores content, so a token pasted
into a file name (``cp_pat_….txt``, a directory named after a token) is a leak of its own.

A name is searched by the same engine as content. A finding in a name has line 0 (no line of
content holds it) and points at the shortest path that holds the whole token: for a token in a
directory's name that is the directory, so a directory of a thousand files is one finding, not a
thousand. A finding's ``line_text`` stays empty: an allow comment cannot sit in a file name, and
a name is accepted through the baseline instead.
"""

from __future__ import annotations

import functools
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from ..models import Finding, Origin, origin_of, printable
from . import scan as engine
from .rules import Ruleset

NameKey = Tuple[str, str, Optional[str], Optional[str]]  # rule, token, path, commit


def name_findings(
    path: str,
    ruleset: Ruleset,
    shown: Callable[[str], str] = str,
    commit: Optional[str] = None,
    rooted: Optional[str] = None,
) -> List[Finding]:
    """Tokens in ``path`` (the part of a path that git stores), each as a finding at the path up
    to the end of the name that holds it, displayed through ``shown``.

    ``rooted`` is the same path from the repository root when that differs from what ``shown``
    makes of ``path``; both end in the same names, so each is cut after the same name.
    """
    if not any(anchor in path for anchor in anchors(ruleset)):
        return []  # nearly every path: one substring check per anchor
    data = path.encode("utf-8", "surrogateescape")
    found = engine.scan_bytes(data, Origin(path), ruleset)
    return [_in_name(path, finding, shown, commit, rooted) for finding in found]


def _in_name(
    path: str,
    found: Finding,
    shown: Callable[[str], str],
    commit: Optional[str],
    rooted: Optional[str],
) -> Finding:
    start = path.find(found.secret)
    end = path.find("/", start + len(found.secret))
    where = shown(path if end < 0 else path[:end])
    column = where.rfind(found.secret) + 1 or start + 1
    return found._replace(
        origin=origin_of(where, _cut(rooted, "" if end < 0 else path[end:]), commit),
        line=0,
        column=column,
        end_line=0,
        end_column=column + len(found.secret),
        line_text="",
        prev_line_text="",
    )


def _cut(rooted: Optional[str], tail: str) -> Optional[str]:
    """``rooted`` without the names after the one that holds the token (``tail``); None, so
    the display path stands, when the token lies above the root."""
    if rooted is None or not tail:
        return rooted
    tail = printable(tail)
    return rooted[: -len(tail)] if len(rooted) > len(tail) and rooted.endswith(tail) else None


@functools.lru_cache(maxsize=8)
def anchors(ruleset: Ruleset) -> Tuple[str, ...]:
    """The literal anchors as text: a path without one of them holds no token."""
    return tuple(anchor.decode("ascii") for anchor in ruleset.anchors())


def collect(found: Iterable[Finding], into: Dict[NameKey, Finding]) -> None:
    """Keep one finding per (token, path): every file under a token-named directory names it."""
    for finding in found:
        into.setdefault((finding.rule_id, finding.secret, finding.path, finding.commit), finding)
