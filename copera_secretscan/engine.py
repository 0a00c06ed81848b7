"""Find Copera tokens in bytes. No I/O of its own, no git, no click: text in, findings out.

The search works on bytes so that binary files, broken encodings and megabyte lines cost no
decoding: a literal ``bytes.find`` for each rule anchor, then the body match, then the
heuristics, and only for the rare survivors the line/column arithmetic. A clean input costs one
``find`` per anchor and one newline ``count`` per byte.

Streaming: input is read ``chunk_size`` bytes at a time into a window. Every anchor whose
verdict is already certain is decided at once; a candidate that runs into the end of the window
(its prefix, body, the two characters after it, or the rest of its line up to CONTEXT bytes)
is *deferred*: the next round re-examines it with more bytes. Each round then drops all but
_LOOKBACK bytes before the next search position. So any ``chunk_size`` >= 1 is correct (small
ones are slow), each token is decided exactly once, and memory stays bounded.

Positions and encodings live in positions.py (lines, columns in characters, context lines)
and decoding.py (BOMs, UTF-16).
"""

from __future__ import annotations

import functools
import re
from typing import Callable, FrozenSet, Iterator, List, NamedTuple, Optional, Pattern, Tuple

from .boundary import length_prefix, run_end
from .decoding import UTF16_BOMS, Reader, open_stream
from .heuristics import why_not_secret
from .models import Finding, Origin
from .positions import CONTEXT, Cursor, Rereader, context, cut_point, position_after
from .rules import MAX_BODY, TOKEN_CHARS, WORD_CHARS, Rule, Ruleset, body_end

__all__ = [
    "CHUNK_SIZE",
    "CONTEXT",
    "Reader",
    "Rereader",
    "might_contain",
    "scan_bytes",
    "scan_stream",
]

CHUNK_SIZE = 1 << 20
_LOOKBACK = 3 * CONTEXT  # bytes kept before the next search: the token's line and the one before
_AFTER = 2  # characters after a body that the template heuristic looks at


class _Hit(NamedTuple):
    start: int
    end: int
    rule: Rule


class _Plan(NamedTuple):
    """A ruleset arranged for searching: anchors, with their rules longest prefix first."""

    anchors: Tuple[Tuple[bytes, Tuple[Rule, ...]], ...]
    anchor_len: int  # longest anchor
    ruleset: Ruleset
    prefixes: Pattern[bytes]  # any rule prefix, to drop `tcp_`-like anchors cheaply
    prefix_len: int  # longest prefix


_DEFER = _Hit(-1, -1, Rule("", "", "", "", ""))  # "cannot tell yet": wait for more bytes


def scan_bytes(data: bytes, origin: Origin, ruleset: Ruleset) -> List[Finding]:
    """All findings in ``data``; the common no-candidate case costs one ``find`` per anchor."""
    if not might_contain(data, ruleset):
        return []
    pending = [data]  # one window, no copy: the caller already holds all of it in memory
    return list(scan_stream(lambda size: pending.pop() if pending else b"", origin, ruleset))


def might_contain(data: bytes, ruleset: Ruleset) -> bool:
    """Cheap literal prefilter: could ``data`` hold a token at all?"""
    if data[:2] in UTF16_BOMS:
        return True
    return _prefilter(ruleset)(data)


@functools.lru_cache(maxsize=8)
def _prefilter(ruleset: Ruleset) -> Callable[[bytes], bool]:
    """``any(anchor in data)``, prepared once per ruleset.

    With one anchor (the built-in rules: ``cp_``) ``re``'s literal search runs ~25% faster than
    ``in`` over source code and binaries (benchmarks/bench_scan.py); an alternation of several
    anchors would be slower than one ``in`` each, so custom anchors keep ``in``.
    """
    anchors = tuple(sorted(ruleset.anchors()))
    if len(anchors) == 1:
        search = _literal(anchors[0]).search
        return lambda data: search(data) is not None
    return lambda data: any(anchor in data for anchor in anchors)


def scan_stream(
    read: Reader,
    origin: Origin,
    ruleset: Ruleset,
    chunk_size: int = CHUNK_SIZE,
    reread: Rereader = None,
) -> Iterator[Finding]:
    """Findings from a stream read ``chunk_size`` bytes at a time, in order of position.

    ``reread(offset, size)``, for an input that can be read again (a regular file), lets lines
    go uncounted until a window holds a token: about half the time of a large clean file.
    """
    chunk_size = max(1, chunk_size)
    read, window, skipped = open_stream(read, chunk_size)
    recount = _shifted(reread, skipped)
    plan, cursor, pos = _plan(ruleset), Cursor(), 0
    while True:
        chunk = read(chunk_size)
        eof = not chunk
        window += chunk
        hits, pos = _decide(window, pos, eof, plan, cursor)
        if hits and recount is not None:
            cursor.catch_up(recount)
        yield from _findings(window, hits, cursor, origin)
        if eof:
            return
        cut = cut_point(window, pos - _LOOKBACK)
        cursor.advance(window, cut, lazy=recount is not None)
        window, pos = window[cut:], pos - cut


def _shifted(reread: Rereader, skipped: int) -> Rereader:
    """``reread`` in the engine's offsets (after a BOM); None where offsets do not map back."""
    if reread is None or skipped < 0:
        return None
    return lambda offset, size: reread(offset + skipped, size)


@functools.lru_cache(maxsize=8)
def _plan(ruleset: Ruleset) -> _Plan:
    anchors = tuple(
        (anchor, tuple(sorted(rules, key=lambda rule: -len(rule.prefix))))
        for anchor, rules in sorted(ruleset.anchors().items())
    )
    prefixes = sorted({rule.prefix_bytes for rule in ruleset.rules}, key=len, reverse=True)
    return _Plan(
        anchors,
        max(len(anchor) for anchor, _ in anchors),
        ruleset,
        re.compile(b"|".join(map(re.escape, prefixes))),
        len(prefixes[0]),
    )


def _decide(
    window: bytes, pos: int, eof: bool, plan: _Plan, cursor: Cursor
) -> Tuple[List[_Hit], int]:
    """Tokens starting in ``window[pos:]`` that can be decided now, and where to search next.

    Candidates are judged in order of position; the first one that needs more bytes stops the
    round and becomes the next search position, so nothing is decided twice.
    """
    stop = len(window) if eof else max(pos, len(window) - plan.anchor_len + 1)
    hits: List[_Hit] = []
    for start, rules in _candidates(window, pos, stop, plan):
        if cursor.offset + start < cursor.last_end:
            continue  # inside a token already reported (`cp_pat_…-cp_key_…`): one finding
        hit = _judge(window, start, rules, eof, plan.ruleset, cursor)
        if hit is _DEFER:
            return hits, start
        if hit is not None:
            hits.append(hit)
            cursor.last_end = cursor.offset + hit.end
    return hits, stop


def _candidates(
    window: bytes, pos: int, stop: int, plan: _Plan
) -> List[Tuple[int, Tuple[Rule, ...]]]:
    """(start, rules) for every anchor starting in ``window[pos:stop]``, by position."""
    found = []
    for anchor, rules in plan.anchors:
        end = stop + len(anchor) - 1
        search = _literal(anchor).search
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


@functools.lru_cache(maxsize=16)
def _literal(anchor: bytes) -> Pattern[bytes]:
    """A literal as a pattern: on real source code and .pyc files ``re`` finds ``cp_`` about
    1.4x as fast as ``bytes.find``, whose skip table suffers from how common ``_`` is."""
    return re.compile(re.escape(anchor))


def _judge(
    window: bytes,
    start: int,
    rules: Tuple[Rule, ...],
    eof: bool,
    ruleset: Ruleset,
    cursor: Cursor,
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
        end = _body_end(window, start, body_start, rule, ruleset, length)
        if not eof and not _settled(window, body_start, end, rule):
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
    window: bytes, start: int, body_start: int, rule: Rule, ruleset: Ruleset, length: Optional[int]
) -> int:
    """Where the body ends; with a length byte (boundary.length_prefix), never past it."""
    if length is not None and rule.body_pattern is None:
        return run_end(window, body_start, start + length)
    end = body_end(rule, window, body_start, ruleset.timeout)
    return end if length is None else min(end, start + length)


def _settled(window: bytes, body_start: int, end: int, rule: Rule) -> bool:
    """Would more bytes leave this candidate's verdict, and its line context, unchanged?"""
    if rule.body_pattern is not None and body_start + MAX_BODY + _AFTER > len(window):
        return False  # a custom pattern might match further given more bytes
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


@functools.lru_cache(maxsize=4096)
def _verdict(body: str, after: str, placeholders: FrozenSet[str]) -> Optional[str]:
    """why_not_secret, remembered: documentation repeats the same placeholder many times."""
    return why_not_secret(body, after, placeholders)


def _findings(window: bytes, hits: List[_Hit], cursor: Cursor, origin: Origin) -> Iterator[Finding]:
    """Findings for ``hits``, counting lines and columns forward from one hit to the next, so
    a megabyte line with many tokens is walked once, not once per token."""
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
