"""Search one reading of a stream, window by window: the core of the engine.

A reading is fed pieces of bytes (``Reading.feed``) and keeps a window of them. Every anchor
whose verdict is already certain is decided at once; a candidate that runs into the end of the
window (its prefix, body, the two characters after it, or the rest of its line up to CONTEXT
bytes) is *deferred*: the next round re-examines it with more bytes. Each round then drops all
but _LOOKBACK bytes before the next search position. So pieces of any size are correct (small
ones are slow), each token is decided exactly once, and memory stays bounded.

A custom rule's body pattern may run out of time on a candidate. A reading that keeps an
``undecided`` list records the candidate there (:class:`Undecided`, with no path: the caller
says which input it was) and goes on; the rule is not tried again in that reading, so one
input costs at most one timeout per rule. Without a list the timeout is raised
(:class:`~.errors.PatternTimeout`), as it always was.
"""

from __future__ import annotations

import collections
import functools
import re

from ..errors import PatternTimeout
from .boundary import length_prefix, run_end
from .positions import CONTEXT, Cursor, context, cut_point, position_after
from .rules import MAX_BODY, TOKEN_CHARS, WORD_CHARS, Rule, Ruleset, body_end

_LOOKBACK = 3 * CONTEXT  # bytes kept before the next search: the token's line and the one before
_AFTER = 2  # characters after a body that the template heuristic looks at

# The lean hook dismisses a `tcp_` here (issue 14): the models load only with a finding, and the
# records are named tuples made without `typing`, which mypy reads as the classes below.
TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, Iterator, List, NamedTuple, Optional, Pattern, Tuple

    from ..models import Finding, Origin

    class _Undecided(NamedTuple):
        rule_id: str
        line: int
        column: int
        reason: str

    class _Hit(NamedTuple):
        start: int
        end: int
        rule: Rule

    class _Plan(NamedTuple):
        anchors: Tuple[Tuple[bytes, Tuple[Rule, ...]], ...]
        anchor_len: int  # longest anchor
        ruleset: Ruleset
        prefixes: Pattern[bytes]  # any rule prefix, to drop `tcp_`-like anchors cheaply
        prefix_len: int  # longest prefix

else:
    _Undecided = collections.namedtuple("Undecided", "rule_id line column reason")
    _Hit = collections.namedtuple("_Hit", "start end rule")
    _Plan = collections.namedtuple("Plan", "anchors anchor_len ruleset prefixes prefix_len")


class Undecided(_Undecided):
    """A candidate no verdict was reached on: ``rule_id``'s body pattern ran out of time.

    Where in the reading it was (line, column as for a finding) and why, in one line; the rule
    was not tried again on the rest of that reading.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return (
            f"{self.reason} (line {self.line}, column {self.column}; not checked against "
            f"rule {self.rule_id!r} from there on)"
        )


class Plan(_Plan):
    """A ruleset arranged for searching: anchors, with their rules longest prefix first."""

    __slots__ = ()


_DEFER = _Hit(-1, -1, Rule("", "", "", "", ""))  # "cannot tell yet": wait for more bytes


class _Stuck:
    """The custom rules a reading gave up on, and this round's undecided candidates."""

    def __init__(self, keep_going: bool) -> None:
        self.keep_going = keep_going  # False: a timeout is raised, as without an undecided list
        self.reasons: Dict[str, str] = {}  # rule id -> why it was given up
        self.round: List[Tuple[int, str]] = []  # (window offset, rule id), positions to come


class Clear:
    """Stream offsets ``[start, end)`` known to hold no anchor, from a search already made.

    The disguise scan of a stream (unwrap.StreamDisguises) searches each of its windows, a
    read ahead of the plain search, for every place an escape could follow the anchor's
    ``cp``, which every anchor is too; where it finds none, the plain search need not look
    again: a pass fewer over clean text. The range grows while consecutive windows are clean;
    a later clean window after a dirty one starts a new range.
    """

    def __init__(self) -> None:
        self.start = self.end = 0

    def add(self, start: int, end: int) -> None:
        if self.start <= start <= self.end:
            self.end = max(self.end, end)
        else:
            self.start, self.end = start, end

    def covers(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end


class Reading:
    """One reading of a stream, searched as its pieces arrive.

    ``feed`` appends a piece to the window, decides every candidate it can, and keeps only
    _LOOKBACK bytes before the next search position (module doc). ``clear``: the stream's
    ranges known to hold no anchor (raw readings only: its offsets are the stream's).
    """

    def __init__(
        self,
        plan: Plan,
        origin: Origin,
        cursor: Cursor,
        undecided: Optional[List[Undecided]],
        clear: Optional[Clear] = None,
    ) -> None:
        self.plan, self.origin, self.cursor, self.undecided = plan, origin, cursor, undecided
        self.stuck = _Stuck(keep_going=undecided is not None)
        self.window, self.pos = b"", 0
        self.clear = clear

    def feed(self, piece: bytes, eof: bool) -> List[Finding]:
        """The findings ``piece`` settles (all that are left, when ``eof``)."""
        window = self.window + piece
        cursor = self.cursor
        hits: List[_Hit] = []
        if self._clear(len(window)):  # where _decide would stop having found no anchor
            pos = _stop(window, self.pos, eof, self.plan)
        else:
            hits, pos = _decide(window, self.pos, eof, self.plan, cursor, self.stuck)
        found = list(_findings(window, hits, cursor, self.origin))
        if self.stuck.round:
            self._record_undecided(window)
        if eof:
            window, pos = b"", 0
        else:
            cut = cut_point(window, pos - _LOOKBACK)
            cursor.advance(window, cut)
            window, pos = window[cut:], pos - cut
        self.window, self.pos = window, pos
        return found

    def _clear(self, size: int) -> bool:
        """Is all of the window from the search position known to hold no anchor?"""
        if self.clear is None:
            return False
        base = self.cursor.shift + self.cursor.offset
        return self.clear.covers(base + self.pos, base + size)

    def _record_undecided(self, window: bytes) -> None:
        """Place this round's undecided candidates (window offsets) at lines and columns."""
        assert self.undecided is not None  # else the timeout was raised
        at = (self.cursor.line, self.cursor.column_chars + 1)
        for start, rule_id in self.stuck.round:
            line, column = position_after(window, 0, start, *at)
            self.undecided.append(Undecided(rule_id, line, column, self.stuck.reasons[rule_id]))
        self.stuck.round.clear()


@functools.lru_cache(maxsize=16)
def literal(anchor: bytes) -> Pattern[bytes]:
    """A literal as a pattern: on real source code and .pyc files ``re`` finds ``cp_`` faster
    than ``bytes.find``, whose skip table suffers from how common ``_`` is."""
    return re.compile(re.escape(anchor))


@functools.lru_cache(maxsize=8)
def plan_for(ruleset: Ruleset) -> Plan:
    """``ruleset`` arranged for searching, once per ruleset."""
    anchors = tuple(
        (anchor, tuple(sorted(rules, key=lambda rule: -len(rule.prefix))))
        for anchor, rules in sorted(ruleset.anchors().items())
    )
    prefixes = sorted({rule.prefix_bytes for rule in ruleset.rules}, key=len, reverse=True)
    return Plan(
        anchors,
        max(len(anchor) for anchor, _ in anchors),
        ruleset,
        re.compile(b"|".join(map(re.escape, prefixes))),
        len(prefixes[0]),
    )


def _decide(
    window: bytes, pos: int, eof: bool, plan: Plan, cursor: Cursor, stuck: _Stuck
) -> Tuple[List[_Hit], int]:
    """Tokens starting in ``window[pos:]`` that can be decided now, and where to search next.

    Candidates are judged in order of position; the first one that needs more bytes stops the
    round and becomes the next search position, so nothing is decided twice.
    """
    stop = _stop(window, pos, eof, plan)
    hits: List[_Hit] = []
    for start, rules in _candidates(window, pos, stop, plan):
        if cursor.offset + start < cursor.last_end:
            continue  # inside a token already reported (`cp_pat_…-cp_key_…`): one finding
        hit = _judge(window, start, rules, eof, plan.ruleset, cursor, stuck)
        if hit is _DEFER:
            return hits, start
        if hit is not None:
            hits.append(hit)
            cursor.last_end = cursor.offset + hit.end
    return hits, stop


def _stop(window: bytes, pos: int, eof: bool, plan: Plan) -> int:
    """Where this round's search for anchors ends: every anchor that starts before it lies
    whole in the window."""
    return len(window) if eof else max(pos, len(window) - plan.anchor_len + 1)


def _candidates(
    window: bytes, pos: int, stop: int, plan: Plan
) -> List[Tuple[int, Tuple[Rule, ...]]]:
    """(start, rules) for every anchor starting in ``window[pos:stop]``, by position."""
    found = []
    for anchor, rules in plan.anchors:
        end = stop + len(anchor) - 1
        search = literal(anchor).search
        match = search(window, pos, end)
        while match is not None:
            start = match.start()
            if (
                start == 0
                or window[start - 1] not in WORD_CHARS
                or plan.prefixes.match(window, start)
                or start + plan.prefix_len > len(window)  # cannot tell yet: _judge defers
            ):
                found.append((start, rules))  # else `tcp_…`: no token, and no pyc length either
            match = search(window, start + 1, end)
    if len(plan.anchors) > 1:
        found.sort(key=lambda item: item[0])
    return found


def _judge(
    window: bytes,
    start: int,
    rules: Tuple[Rule, ...],
    eof: bool,
    ruleset: Ruleset,
    cursor: Cursor,
    stuck: _Stuck,
) -> Optional[_Hit]:
    """The token at ``start``, None if there is none, or _DEFER if the window is too short."""
    if start == 0 and cursor.offset:
        return None  # cannot happen while _LOOKBACK > 0; guards the boundary rule anyway
    length = length_prefix(window, start)
    for rule in rules:
        body_start = start + len(rule.prefix_bytes)
        if not eof and body_start > len(window):
            return _DEFER
        if not window.startswith(rule.prefix_bytes, start):
            continue
        if length is None and _inside_blob(rule, cursor, body_start):
            continue
        if rule.body_pattern is not None:
            if rule.rule_id in stuck.reasons:
                continue  # this reading gave up on the rule: at most one timeout per input
            if not eof and body_start + MAX_BODY + _AFTER > len(window):
                return _DEFER  # the pattern might match further given more bytes
        end = _body_end(window, start, body_start, rule, ruleset, length, stuck)
        if end is None:
            continue  # undecided for this rule; another rule may still claim the candidate
        if not eof and not _settled(window, end):
            return _DEFER
        if length is not None and end != start + length:
            continue
        if length is None and _ran_past_max_body(window, end, rule):
            cursor.blob_end = cursor.offset + run_end(window, end, len(window))
            continue
        if _is_token(window, body_start, end, ruleset):
            return _Hit(start, end, rule)
    return None


def _inside_blob(rule: Rule, cursor: Cursor, body_start: int) -> bool:
    """Inside a run of token characters already known to exceed MAX_BODY (a base64 blob)?

    Remembering the blob keeps `-cp_pat_-cp_pat_…` linear: each anchor in it would otherwise
    rescan MAX_BODY bytes.
    """
    return rule.body_pattern is None and cursor.offset + body_start + MAX_BODY < cursor.blob_end


def _body_end(
    window: bytes,
    start: int,
    body_start: int,
    rule: Rule,
    ruleset: Ruleset,
    length: Optional[int],
    stuck: _Stuck,
) -> Optional[int]:
    """Where the body ends; with a length byte (boundary.length_prefix), never past it.

    None when a custom pattern ran out of time: the rule is given up in ``stuck``, or, when
    the caller keeps no undecided list, the timeout is raised.
    """
    if length is not None and rule.body_pattern is None:
        return run_end(window, body_start, start + length)
    try:
        end = body_end(rule, window, body_start, ruleset.timeout)
    except PatternTimeout as exc:
        if not stuck.keep_going:
            raise
        stuck.reasons[rule.rule_id] = str(exc)
        stuck.round.append((start, rule.rule_id))
        return None
    return end if length is None else min(end, start + length)


def _settled(window: bytes, end: int) -> bool:
    """Would more bytes leave this candidate's verdict, and its line context, unchanged?"""
    if end + _AFTER > len(window):
        return False
    return window.find(b"\n", end, end + CONTEXT) >= 0 or end + CONTEXT <= len(window)


def _ran_past_max_body(window: bytes, end: int, rule: Rule) -> bool:
    """A run of token characters longer than MAX_BODY is a blob of base64, not a credential."""
    return rule.body_pattern is None and end < len(window) and window[end] in TOKEN_CHARS


def _is_token(window: bytes, body_start: int, end: int, ruleset: Ruleset) -> bool:
    if end - body_start < ruleset.min_length:
        return False
    body = window[body_start:end].decode("utf-8", "replace")
    after = window[end : end + _AFTER].decode("utf-8", "replace")
    return _verdict(body, after, ruleset.placeholders) is None


def plain_token_in(data: bytes, ruleset: Ruleset) -> bool:
    """Whether the plain search finds a token in ``data``, read as one window to its end.

    The lean hook asks this about a file whose only anchors are words like ``tcp_``: the very
    decision a scan makes (any chunking gives the same verdicts, module doc), with no finding
    built and no lines counted. A custom rule that ran out of time counts as a token: doubt.
    """
    stuck = _Stuck(keep_going=True)
    hits, _ = _decide(data, 0, True, plan_for(ruleset), Cursor(), stuck)
    return bool(hits or stuck.round)


@functools.lru_cache(maxsize=4096)
def _verdict(body: str, after: str, placeholders: FrozenSet[str]) -> Optional[str]:
    """why_not_secret, remembered: documentation repeats the same placeholder many times.

    The heuristics load with the first body long enough to judge: a file whose only anchors
    are words like ``tcp_`` never needs their patterns."""
    from .heuristics import why_not_secret

    return why_not_secret(body, after, placeholders)


def _findings(window: bytes, hits: List[_Hit], cursor: Cursor, origin: Origin) -> Iterator[Finding]:
    """Findings for ``hits``, counting lines and columns forward from one hit to the next, so
    a megabyte line with many tokens is walked once, not once per token."""
    from ..models import Finding  # deferred: most readings have no finding to build

    line, column, counted_to = cursor.line, cursor.column_chars + 1, 0
    for start, end, rule in hits:
        line, column = position_after(window, counted_to, start, line, column)
        counted_to = start
        secret = window[start:end].decode("utf-8", "replace")
        end_line, end_column = position_after(window, start, end, line, column)
        line_text, prev_text = context(window, start, end)
        yield Finding(
            rule.rule_id,
            origin,
            line,
            column,
            end_line,
            end_column,
            secret,
            rule.prefix,
            line_text,
            prev_text,
        )
