"""Find Copera tokens in bytes. No I/O of its own, no git, no click: text in, findings out.

The search works on bytes so that binary files, broken encodings and megabyte lines cost no
decoding: a literal ``bytes.find`` for each rule anchor, then the body match, then the
heuristics, and only for the rare survivors the line/column arithmetic. A clean input costs one
``find`` per anchor and one newline ``count`` per byte.

Streaming: input is read ``chunk_size`` bytes at a time and searched window by window
(search.py), so any ``chunk_size`` >= 1 gives the same findings and memory stays bounded.
A stream is searched as one or two *readings* (decoding.py): its raw bytes always, and the
UTF-8 transcoding of its UTF-16 when it starts with a UTF-16 BOM. Both are fed the same reads,
so the stream is read once; each reading keeps its own window, and the raw one takes its
line numbers from the one newline count made as the reads return (positions.Tally). A
custom rule that runs out of time on a candidate is reported in ``undecided``
(:class:`~.search.Undecided`) when the caller passes that list, and raised otherwise.

Positions and encodings live in positions.py (lines, columns in characters, context lines)
and decoding.py (BOMs, UTF-16).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable, Iterator, List, Optional, Tuple

from ..models import CHUNK_SIZE, Finding, Origin
from .decoding import UTF16_BOMS, open_stream
from .disguise import Finder, PlainScan
from .escapes import plain_anchor, single_trigger
from .positions import CONTEXT, Cursor, Tally
from .rules import Ruleset
from .search import Clear, Reading, Undecided, plan_for
from .unwrap import StreamDisguises, finders_for, scan_disguised

if TYPE_CHECKING:  # type aliases of decoding.py, which must not load typing at run time
    from .decoding import Reader, Transcoder

__all__ = [
    "CHUNK_SIZE",
    "CONTEXT",
    "Undecided",
    "might_contain",
    "scan_bytes",
    "scan_stream",
]


def scan_bytes(
    data: bytes, origin: Origin, ruleset: Ruleset, undecided: Optional[List[Undecided]] = None
) -> List[Finding]:
    """All findings in ``data``, plain and disguised (unwrap.py), by position.

    The common clean case costs one search per anchor plus the passes of the disguise
    finders the input gets (``unwrap.finders_for``). ``undecided`` collects the candidates a
    custom rule could not judge in time (module doc), in decoded runs too.
    """
    plain = _plain_scanner(undecided)
    found = plain(data, origin, ruleset)
    hidden = scan_disguised(data, origin, ruleset, plain, found=found)
    return sorted(found + hidden, key=_place) if hidden else found


def _plain_scanner(undecided: Optional[List[Undecided]]) -> PlainScan:
    """The plain scan of whole bytes, collecting into ``undecided``."""

    def plain(data: bytes, origin: Origin, ruleset: Ruleset) -> List[Finding]:
        if not _prefilter(ruleset)(data) and data[:2] not in UTF16_BOMS:
            return []
        pending = [data]  # one window, no copy: the caller already holds all of it in memory
        read: Reader = lambda size: pending.pop() if pending else b""  # noqa: E731
        return list(_plain_stream(read, origin, ruleset, CHUNK_SIZE, None, undecided))

    return plain


def might_contain(data: bytes, ruleset: Ruleset, origin: Optional[Origin] = None) -> bool:
    """Cheap literal prefilter: could ``data`` hold a token at all, plain or disguised?

    Without ``origin`` the input is taken for data, not source code (unwrap.finders_for).
    """
    if data[:2] in UTF16_BOMS or _prefilter(ruleset)(data):
        return True
    where = origin if origin is not None else Origin(None)
    searched = _searched_by_prefilter(ruleset)
    return any(
        next(iter(finder(data, ruleset)), None) is not None
        for finder in finders_for(data, where)
        if finder not in searched
    )


@functools.lru_cache(maxsize=8)
def _prefilter(ruleset: Ruleset) -> Callable[[bytes], bool]:
    """Could ``data`` hold the plain anchor, or an escape right after its ``cp``? Prepared
    once per ruleset.

    With one anchor (the built-in rules: ``cp_``) one literal-led ``re`` search answers both
    (escapes.single_trigger, as cheap as the anchor alone: measured by
    benchmarks/bench_scan.py); custom anchors keep one ``in`` each.
    """
    trigger = single_trigger(ruleset)
    if trigger is not None:
        search = trigger.search
        return lambda data: search(data) is not None
    anchors = tuple(sorted(ruleset.anchors()))
    return lambda data: any(anchor in data for anchor in anchors)


@functools.lru_cache(maxsize=8)
def _searched_by_prefilter(ruleset: Ruleset) -> Tuple[Finder, ...]:
    """The finders whose whole search the prefilter already made."""
    return (plain_anchor,) if single_trigger(ruleset) is not None else ()


def scan_stream(
    read: Reader,
    origin: Origin,
    ruleset: Ruleset,
    chunk_size: int = CHUNK_SIZE,
    undecided: Optional[List[Undecided]] = None,
) -> Iterator[Finding]:
    """Findings from a stream read ``chunk_size`` bytes at a time: plain ones as the reads go
    by, then the disguised ones (unwrap.StreamDisguises, fed the same reads). The newlines of
    each read are counted once, as it returns (positions.Tally), for both."""
    tally, clear = Tally(), Clear()
    disguises = StreamDisguises(origin, ruleset, _plain_scanner(undecided), tally, clear)
    plain: List[Finding] = []
    for finding in _plain_stream(
        disguises.tap(tally.tap(read)), origin, ruleset, chunk_size, tally, undecided, clear
    ):
        plain.append(finding)
        yield finding
    yield from disguises.finish(plain)


def _plain_stream(
    read: Reader,
    origin: Origin,
    ruleset: Ruleset,
    chunk_size: int,
    tally: Optional[Tally],
    undecided: Optional[List[Undecided]],
    clear: Optional[Clear] = None,
) -> Iterator[Finding]:
    """Plain findings from a stream read ``chunk_size`` bytes at a time.

    In order of position; with a UTF-16 BOM, the raw reading's and the transcoding's findings
    are merged at the end, sorted by line and column, each token once. ``tally``, the
    stream's newline count, saves the raw reading counting its windows again; ``clear``, the
    stream's ranges already known to hold no anchor, searching them again.
    """
    chunk_size = max(1, chunk_size)
    head, skipped, transcode = open_stream(read, chunk_size)
    plan = plan_for(ruleset)
    raw = Reading(plan, origin, Cursor(tally, skipped), undecided, clear)
    pieces = _pieces(read, head, chunk_size)
    if transcode is None:
        for chunk, eof in pieces:
            yield from raw.feed(chunk, eof)
        return
    text = Reading(plan, origin, Cursor(), undecided)  # offsets there do not map to the input
    yield from _both(pieces, raw, text, transcode)


def _pieces(read: Reader, head: bytes, chunk_size: int) -> Iterator[Tuple[bytes, bool]]:
    """(piece, is it the last?) for ``head`` and then every read, until one comes back empty."""
    piece = head
    while True:
        following = read(chunk_size)
        yield piece, not following
        if not following:
            return
        piece = following


def _both(
    pieces: Iterator[Tuple[bytes, bool]], raw: Reading, text: Reading, transcode: Transcoder
) -> Iterator[Finding]:
    """Findings of the raw reading and of the UTF-16 transcoding, fed the same pieces.

    The readings never share the bytes of a token, but contrived bytes can put a copy in each
    at the same line and column (tests/test_lying_bom.py); that finding is reported once.
    Sorted, because how far each reading got when a piece ended depends on the chunking, and
    the result must not.
    """
    found: List[Finding] = []
    for piece, eof in pieces:
        found += raw.feed(piece, eof)
        decoded = transcode(piece, eof)
        if decoded or eof:  # an odd byte alone decodes to nothing yet: not the end of the text
            found += text.feed(decoded, eof)
    yield from sorted(dict.fromkeys(found), key=_place)


def _place(finding: Finding) -> Tuple[int, int, int, int, str, str]:
    return (
        finding.line,
        finding.column,
        finding.end_line,
        finding.end_column,
        finding.rule_id,
        finding.secret,
    )
