"""Find Copera tokens in bytes. No I/O of its own, no git, no click: text in, findings out.

The search works on bytes so that binary files, broken encodings and megabyte lines cost no
decoding: a literal ``bytes.find`` for each rule anchor, then the body match, then the
heuristics, and only for the rare survivors the line/column arithmetic. Large inputs are read
in windows of ``chunk_size`` bytes; each window keeps enough of the previous one that a token
straddling the seam is seen whole, and only tokens *starting* in the new part are reported, so
each token is found exactly once and memory stays bounded whatever the input size.
"""

from __future__ import annotations

import codecs
import io
from typing import Callable, Iterator, List, Optional, Tuple

from .heuristics import why_not_secret
from .models import Finding, Origin
from .rules import MAX_BODY, TOKEN_CHARS, WORD_CHARS, Rule, Ruleset, body_end

CHUNK_SIZE = 1 << 20
CONTEXT = 4096  # bytes of the token's line kept on each side, for display and allow markers
_LOOKBACK = 3 * CONTEXT  # bytes of the previous window kept before new hits: line + previous line
_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8 continuation bytes: not characters of their own
_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

Reader = Callable[[int], bytes]


def scan_bytes(data: bytes, origin: Origin, ruleset: Ruleset) -> List[Finding]:
    """All findings in ``data``; the common no-candidate case costs one ``find`` per anchor."""
    if not might_contain(data, ruleset):
        return []
    return list(scan_stream(io.BytesIO(data).read, origin, ruleset))


def might_contain(data: bytes, ruleset: Ruleset) -> bool:
    """Cheap literal prefilter: could ``data`` hold a token at all?"""
    if data[:2] in _UTF16_BOMS:
        return True
    return any(anchor in data for anchor in ruleset.anchors())


def scan_stream(
    read: Reader, origin: Origin, ruleset: Ruleset, chunk_size: int = CHUNK_SIZE
) -> Iterator[Finding]:
    """Findings from a stream read ``chunk_size`` bytes at a time, in order of position."""
    first = read(chunk_size)
    if first[:2] in _UTF16_BOMS and _looks_like_utf16(first):
        read, first = _utf16_as_utf8(read, first), b""
    elif first.startswith(_UTF8_BOM):
        first = first[len(_UTF8_BOM) :]
    anchors = sorted(ruleset.anchors().items())
    lookahead = max(len(rule.prefix_bytes) for rule in ruleset.rules) + MAX_BODY + 1
    window, pos, cursor = first, 0, _Cursor()
    while True:
        chunk = read(chunk_size) if window or not first else b""
        eof = not chunk
        window += chunk
        limit = len(window) if eof else len(window) - lookahead
        if limit > pos:
            hits = _find_hits(
                window, pos, limit, anchors, ruleset, at_file_start=cursor.offset == 0
            )
            yield from _findings(window, hits, cursor, origin)
            pos = limit
        if eof:
            return
        cut = max(0, pos - _LOOKBACK)
        cursor.advance(window, cut)
        window, pos = window[cut:], pos - cut


def _find_hits(
    window: bytes,
    pos: int,
    limit: int,
    anchors: List[Tuple[bytes, Tuple[Rule, ...]]],
    ruleset: Ruleset,
    at_file_start: bool,
) -> List[Tuple[int, int, Rule]]:
    """(start, end, rule) of every real token whose prefix starts in ``window[pos:limit]``."""
    hits = []
    for anchor, rules in anchors:
        start = window.find(anchor, pos, limit + len(anchor) - 1)
        while start >= 0:
            hit = _match_at(window, start, rules, ruleset, at_file_start)
            if hit is not None:
                hits.append(hit)
            start = window.find(anchor, start + 1, limit + len(anchor) - 1)
    hits.sort(key=lambda hit: hit[0])
    return hits


def _match_at(
    window: bytes, start: int, rules: Tuple[Rule, ...], ruleset: Ruleset, at_file_start: bool
) -> Optional[Tuple[int, int, Rule]]:
    if start > 0 and window[start - 1] in WORD_CHARS:
        return None
    if start == 0 and not at_file_start:
        return None  # cannot happen while _LOOKBACK > 0; guards the boundary rule anyway
    for rule in sorted(rules, key=lambda rule: -len(rule.prefix)):
        if not window.startswith(rule.prefix_bytes, start):
            continue
        body_start = start + len(rule.prefix_bytes)
        end = body_end(rule, window, body_start, ruleset.timeout)
        if end - body_start < ruleset.min_length:
            continue
        if rule.body_pattern is None and end < len(window) and window[end] in TOKEN_CHARS:
            continue  # ran past MAX_BODY: a blob of base64, not a credential
        body = window[body_start:end].decode("utf-8", "replace")
        after = window[end : end + 2].decode("utf-8", "replace")
        if why_not_secret(body, after, ruleset.placeholders) is None:
            return start, end, rule
    return None


class _Cursor:
    """Line and column bookkeeping for the byte at the start of the current window."""

    def __init__(self) -> None:
        self.offset = 0  # absolute offset of window[0]
        self.line = 1
        self.column_chars = 0  # characters between the last newline and window[0]

    def advance(self, window: bytes, cut: int) -> None:
        newlines = window.count(b"\n", 0, cut)
        if newlines:
            self.line += newlines
            self.column_chars = _chars(window[window.rindex(b"\n", 0, cut) + 1 : cut])
        else:
            self.column_chars += _chars(window[:cut])
        self.offset += cut


def _findings(
    window: bytes, hits: List[Tuple[int, int, Rule]], cursor: _Cursor, origin: Origin
) -> Iterator[Finding]:
    line, counted_to = cursor.line, 0
    for start, end, rule in hits:
        line += window.count(b"\n", counted_to, start)
        counted_to = start
        column = _column(window, start, cursor)
        secret = window[start:end].decode("utf-8", "replace")
        end_line = line + secret.count("\n")  # custom patterns may span lines; built-ins never
        end_column = column + len(secret) if end_line == line else _column(window, end, cursor)
        line_text, prev_text = _context(window, start, end)
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


def _column(window: bytes, offset: int, cursor: _Cursor) -> int:
    newline = window.rfind(b"\n", 0, offset)
    if newline < 0:
        return cursor.column_chars + _chars(window[:offset]) + 1
    return _chars(window[newline + 1 : offset]) + 1


def _context(window: bytes, start: int, end: int) -> Tuple[str, str]:
    """The token's line and the line before it, each clipped to CONTEXT bytes around the token."""
    line_start = window.rfind(b"\n", max(0, start - CONTEXT), start) + 1
    line_end = window.find(b"\n", end, end + CONTEXT)
    line_end = min(len(window), end + CONTEXT) if line_end < 0 else line_end
    prev = ""
    if line_start > 0 and window[line_start - 1 : line_start] == b"\n":
        prev_end = line_start - 1
        prev_start = window.rfind(b"\n", max(0, prev_end - CONTEXT), prev_end) + 1
        prev = _text(window[prev_start:prev_end])
    return _text(window[line_start:line_end]), prev


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")


def _chars(raw: bytes) -> int:
    """Characters in UTF-8 ``raw``: every byte that does not continue a multi-byte sequence."""
    return len(raw.translate(None, _CONTINUATION))


def _looks_like_utf16(head: bytes) -> bool:
    """A UTF-16 BOM *and* NULs in every other byte, so a binary that starts FF FE stays binary."""
    sample = head[2:514]
    return len(sample) >= 2 and sample.count(0) * 4 >= len(sample)


def _utf16_as_utf8(read: Reader, first: bytes) -> Reader:
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    pending = [first]

    def reader(size: int) -> bytes:
        while True:
            raw = pending.pop() if pending else read(size)
            text = decoder.decode(raw, final=not raw)
            if text or not raw:
                return text.encode("utf-8", "surrogatepass")

    return reader
