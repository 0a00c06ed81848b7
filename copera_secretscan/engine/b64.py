"""base64 and base64url finders: the prefix images, searched as literals, then one run decoded.

A token's prefix encodes to the same few characters wherever it sits, given its alignment in
the 3-byte groups base64 works on: ``cp_`` is ``Y3Bf`` at a group start, ``NwX`` one byte in
and ``jcF`` two bytes in (none holds ``+``/``/``, so base64url shares them; a custom anchor
whose image does may need both alphabets). Each image is one literal search; only the run of
base64 around a hit is decoded, from the group start the hit implies, so a run glued to other
text still decodes the token right. ``eyJ`` (``{"`` and a letter) marks base64 of JSON, which
covers a JWT's segments and a ``.dockerconfigjson`` (whose ``auth`` is base64 again: found
one level down).

A run may be wrapped at any column (PEM 64, MIME 76, YAML block scalars: a newline and
indentation) as long as each further line is base64 alone. The limit: a wrap that cuts the
prefix image itself (``Y3`` at the end of one line, ``Bf`` on the next) hides it.
"""

from __future__ import annotations

import binascii
import functools
import re
from typing import Callable, Dict, Iterator, List, NamedTuple, Set, Tuple

from .decoding import JSON_MARK, base64_images
from .disguise import Unwrapped
from .rules import Ruleset
from .search import literal

ENCODING = "base64"
MAX_BACK = 1 << 16  # bytes looked back for a run's start: a hit in a huge blob stays cheap
MAX_AHEAD = 1 << 20  # bytes of a run decoded after a hit
MIN_WRAP = 8  # a line shorter than this does not continue a run on the next line

_SEGMENT = re.compile(rb"[A-Za-z0-9+/_-]*=*")
_LAST_OTHER = re.compile(rb"(?s).*[^A-Za-z0-9+/_-]")  # greedy: ends at the run's start
_NEXT_LINE = re.compile(rb"\r?\n[ \t]*([A-Za-z0-9+/_-]+=*)[ \t]*\r?(?=\n|\Z)")
_BLANKS = re.compile(rb"[ \t\r\n]+")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


class Image(NamedTuple):
    """A literal some encoded anchor shows, and how many characters of its group precede it."""

    text: bytes
    lead: int


class _Run(NamedTuple):
    start: int
    end: int


def find_base64(data: bytes, ruleset: Ruleset) -> Iterator[Unwrapped]:
    """Base64 runs in ``data`` holding an anchor at any alignment, or JSON, decoded."""
    return _find(data, _searches(ruleset, ALL), _shortest(ruleset))


def find_base64_whole(data: bytes, ruleset: Ruleset) -> Iterator[Unwrapped]:
    """Base64 runs that start with an anchor (``base64(token)``): one literal per anchor.

    The cheap variant for source code, where an encoded token is nearly always encoded alone.
    """
    return _find(data, _searches(ruleset, WHOLE), _shortest(ruleset))


ALL = ((0, 1, 2), True)  # (alignments, JSON too?)
WHOLE = ((0,), False)
Search = Callable[[bytes, int], int]  # (data, from) -> offset of the next hit, or -1
_SEARCHES: Dict[
    Tuple[int, Tuple[Tuple[int, ...], bool]], Tuple[Ruleset, Tuple[Tuple[Search, int], ...]]
] = {}


def _searches(
    ruleset: Ruleset, which: Tuple[Tuple[int, ...], bool]
) -> Tuple[Tuple[Search, int], ...]:
    """(search, lead) per image, remembered by the ruleset's identity: hashing a Ruleset on
    every input would cost more than the search of a small file."""
    known = _SEARCHES.get((id(ruleset), which))
    if known is None or known[0] is not ruleset:
        found = tuple((_search_for(image.text), image.lead) for image in images(ruleset, *which))
        known = _SEARCHES[(id(ruleset), which)] = (ruleset, found)
    return known[1]


def _search_for(text: bytes) -> Search:
    """``re``'s literal search, which scans for the image's first byte. An image that starts
    with a common letter (``eyJ``: ``e``) is searched from its second byte and checked back,
    at half the cost of ``bytes.find`` (benchmarks/bench_memory.py's source text)."""
    if text == JSON_MARK:
        return _after_first(text)
    search = literal(text).search

    def first(data: bytes, start: int) -> int:
        match = search(data, start)
        return -1 if match is None else match.start()

    return first


def _after_first(text: bytes) -> Search:
    """The search for ``text`` that scans for ``text[1:]`` and keeps the hits ``text[0]``
    precedes."""
    first, search = text[:1], literal(text[1:]).search

    def found(data: bytes, start: int) -> int:
        match = search(data, start + 1)
        while match is not None and not data.startswith(first, match.start() - 1):
            match = search(data, match.start() + 1)
        return -1 if match is None else match.start() - 1

    return found


@functools.lru_cache(maxsize=8)
def images(ruleset: Ruleset, alignments: Tuple[int, ...], json: bool = True) -> Tuple[Image, ...]:
    """Every literal to search: each anchor's images at ``alignments``, in both alphabets."""
    found = {
        Image(text, lead)
        for anchor in ruleset.anchors()
        for alignment in alignments
        for text, lead in base64_images(anchor, alignment)
    }
    if json:
        found.add(Image(JSON_MARK, 0))
    return tuple(sorted(found))


def _shortest(ruleset: Ruleset) -> int:
    """Bytes in the shortest token: a decoded run with fewer holds none, plain or encoded."""
    return min(len(rule.prefix_bytes) for rule in ruleset.rules) + ruleset.min_length


def _find(
    data: bytes, wanted: Tuple[Tuple[Search, int], ...], shortest: int
) -> Iterator[Unwrapped]:
    """Each distinct (run, group phase) that some image hits, decoded once.

    Linear however many hits a run holds: a hit's place among the run's characters is counted
    on from the previous hit's, and a run whose four phases are all decoded is passed over.
    """
    run = _Run(-1, -1)
    phases: Set[int] = set()  # the run's group phases decoded so far
    counted = index = 0  # offset up to which the run's characters are counted, and how many
    for hit, lead in _hits(data, wanted):
        if not run.start <= hit < run.end:
            run, phases, index = run_around(data, hit), set(), 0
            counted = run.start
        if len(phases) == 4:
            continue
        index += len(_BLANKS.sub(b"", data[counted:hit]))  # the hit among the run's characters
        counted = hit
        phase = (index - lead) % 4
        if index < lead or phase in phases:
            continue  # cut off at the run's start (no group holds it here), or decoded already
        phases.add(phase)
        decoded = decode(data[run.start : run.end], phase)
        if len(decoded) >= shortest:
            yield Unwrapped(run.start, decoded, ENCODING)


def _hits(data: bytes, wanted: Tuple[Tuple[Search, int], ...]) -> List[Tuple[int, int]]:
    """(offset, lead) of every image in ``data``, one literal pass per image, by offset."""
    hits = []
    for search, lead in wanted:
        hit = search(data, 0)
        while hit >= 0:
            hits.append((hit, lead))
            hit = search(data, hit + 1)
    hits.sort()
    return hits


def run_around(data: bytes, hit: int) -> _Run:
    """The base64 run that holds offset ``hit``, across line wraps, bounded on both sides."""
    return _Run(_run_start(data, hit), _run_end(data, hit))


def _run_start(data: bytes, hit: int) -> int:
    """Back to the run's first character; a line that starts a line of base64 alone continues
    a long enough run of base64 that ends the line before it."""
    floor = max(0, hit - MAX_BACK)
    start = _segment_start(data, hit, floor)
    while start > floor:
        newline = data.rfind(b"\n", floor, start)
        if newline < 0 or data[newline + 1 : start].strip(b" \t"):
            return start  # text before the run on its own line: the run starts here
        end = newline - 1 if data[newline - 1 : newline] == b"\r" else newline
        tail = _segment_start(data, end, floor)
        if end - tail < MIN_WRAP or b"--" in data[tail:end]:
            return start  # too short to be wrapped, or `-----BEGIN …-----`
        start = tail
    return start


def _segment_start(data: bytes, pos: int, floor: int) -> int:
    """Where the run of base64 characters that ends at ``pos`` starts (not before ``floor``),
    looking back a little first: each look is linear in what it looks at."""
    reach = 256
    while True:
        low = max(floor, pos - reach)
        other = _LAST_OTHER.match(data, low, pos)
        if other is not None or low == floor:
            return other.end() if other else floor
        reach *= 16


def _run_end(data: bytes, hit: int) -> int:
    """Forward to the run's end: padding ends it, a further line of base64 alone continues it."""
    limit = min(len(data), hit + MAX_AHEAD)
    end = _SEGMENT.match(data, hit, limit).end()  # type: ignore[union-attr]  # `*` always matches
    while end < limit and data[end - 1 : end] != b"=":
        following = _NEXT_LINE.match(data, end, limit)
        if following is None:
            break
        end = following.end(1)
    return end


def decode(run: bytes, phase: int) -> bytes:
    """The bytes ``run`` encodes from its character ``phase`` on (either alphabet, wraps and
    missing padding allowed; padding ends the data); b"" if nothing decodes."""
    body = _BLANKS.sub(b"", run)[phase:].translate(_TO_STANDARD).split(b"=", 1)[0]
    body = body[: len(body) - 1] if len(body) % 4 == 1 else body  # 6 bits make no byte
    try:
        return binascii.a2b_base64(body + b"=" * (-len(body) % 4))
    except binascii.Error:
        return b""
