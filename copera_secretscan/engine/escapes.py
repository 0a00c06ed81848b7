"""Finders for tokens hidden by escapes, entities, hex dumps and NUL-interleaved text.

Where an escape can hide a prefix is found by at most three searches over a text input, each
an ``re`` pattern that starts with a literal (so it costs about one ``find``, where an
alternation of literals would cost ten); the run around a hit is decoded by its family
(unescape.py) and yielded when a prefix appears in it:

- :func:`plain_anchor`: ``cp`` then ``_`` or an escape introducer: the ``_``, a kind letter or
  a body character is escaped (``cp%5Fpat%5F``, ``cp\\u005f``, ``cp\\_pat\\_``, a
  quoted-printable soft break ``=\\n`` inside the body);
- :func:`escaped_prefix`: ``70`` then ``5f`` behind any hex-based introducer, i.e. ``p_``
  escaped, so the whole prefix is (``\\x63\\x70\\x5f``, ``%63%70%5F``, ``\\u0063\\u0070…``,
  ``&#x63;&#x70;…``, hex dumps ``63705f…`` and bytea ``\\x63705f…``);
- :func:`entities`: an HTML entity (``&#99;&#112;&#95;``, ``&lowbar;``).

Which inputs get these finders is decided with the others in :func:`.unwrap.finders_for`:
source code gets none (it is most of a tree's text, and the disguises met in leaks are in
data, logs, dumps, mail and documentation), a binary gets none, and NUL-interleaved text
(UTF-16 or UTF-32 without a byte-order mark) gets :func:`wide_text` alone.

Each :class:`Unwrapped` starts where the disguised run does (for wide text: where the prefix
does), and its ``data`` begins with the decoded character before the run when the same line
has one, so that the plain search judges the boundary as it would in plain text.
"""

from __future__ import annotations

import codecs
import functools
import re
from typing import Iterator, Optional, Pattern, Tuple

from .decoding import ESCAPE_INTRODUCERS, NAMED_UNDERSCORES, WIDE, hex_pair, wide_image
from .disguise import Finder, Unwrapped
from .rules import Ruleset
from .unescape import HEX, HEX_LEADS, HTML, SPACED_HEX, Family, family_at

_RUN = 10 * 4096  # raw bytes a run may span: MAX_BODY characters, escaped
_TOKEN = re.compile(rb"[A-Za-z0-9_-]*")
_ENTITY = re.compile(
    rb"&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|%s)" % b"|".join(n + b";" for n in NAMED_UNDERSCORES)
)


def plain_anchor(data: bytes, ruleset: Ruleset) -> Iterator[Unwrapped]:
    """A plain ``cp`` whose ``_``, kind letters or body an escape hides or continues."""
    for anchor, trigger in _plain_triggers(ruleset):
        pos = 0
        while (match := trigger.search(data, pos)) is not None:
            hit = match.start()
            plain = _token_run(data, hit)
            family = family_at(data, hit + plain)
            pos = hit + plain + 1
            if family is None:
                continue
            decoded, pos, boundary = _decode_run(data, hit, family)
            if decoded.startswith(anchor, boundary) and _token_run(decoded, boundary) > plain:
                yield Unwrapped(hit, decoded, family.name)  # the escape is inside the token


def holds_no_anchor(data: bytes, ruleset: Ruleset) -> bool:
    """Does ``data`` surely hold no anchor, plain or with an escape after its ``cp``? Asked of
    a one-anchor ruleset only (the built-in rules), whose trigger search answers it in the one
    pass :func:`plain_anchor` makes anyway: where it is true, that finder finds nothing."""
    trigger = single_trigger(ruleset)
    return trigger is not None and trigger.search(data) is None


@functools.lru_cache(maxsize=8)
def single_trigger(ruleset: Ruleset) -> Optional[Pattern[bytes]]:
    """The :func:`plain_trigger` of a ruleset with one anchor (the built-in rules: ``cp_``),
    whose one search both finds a plain anchor and every place :func:`plain_anchor` starts
    from; None for several anchors, where an alternation would be slower than one ``in``
    each."""
    anchors = ruleset.anchors()
    return plain_trigger(next(iter(anchors))) if len(anchors) == 1 else None


def escaped_prefix(data: bytes, ruleset: Ruleset) -> Iterator[Unwrapped]:
    """A prefix whose ``c``, ``p`` and ``_`` are all hex-escaped, or a hex dump of one."""
    for anchor, first, trigger in _hex_triggers(ruleset):
        pos = 0
        while (match := trigger.search(data, pos)) is not None:
            pos = match.end()
            run = _escaped_run(data, match.start(), first)
            if run is not None:
                decoded, end, _ = _decode_run(data, *run)
                pos = max(pos, end)  # a run is decoded once, however many hits it holds
                if anchor in decoded:
                    yield Unwrapped(run[0], decoded, run[1].name)


def entities(data: bytes, ruleset: Ruleset) -> Iterator[Unwrapped]:
    """A prefix that entities spell or hide: ``&#99;&#112;&#95;…``, ``&#x63;…``.

    Yielded only when the entities make an anchor the raw run does not hold in plain.
    """
    anchors = tuple(ruleset.anchors())
    pos = 0
    while (match := _ENTITY.search(data, pos)) is not None:
        decoded, end, _ = _decode_run(data, match.start(), HTML)
        if any(
            decoded.count(anchor) > data.count(anchor, match.start(), end) for anchor in anchors
        ):
            yield Unwrapped(match.start(), decoded, HTML.name)
        pos = max(end, match.end())


def _escaped_run(data: bytes, hit: int, first: bytes) -> Optional[Tuple[int, Family]]:
    """Where the run starts whose escaped first prefix character ends before ``hit``, and its
    family; None if the hex digits of that character are not right before ``hit``."""
    at = data.rfind(first, max(0, hit - 6), hit)
    if at < 0:
        return None
    if data[at + 2 : hit] == b" ":  # a dump, byte by byte: `63 70 5f`
        return at, SPACED_HEX
    if at + 2 == hit:  # a dump: `63705f`, PostgreSQL's bytea `\x63705f`
        return (at - 2 if data.endswith(b"\\x", 0, at) else at), HEX
    for lead, family in HEX_LEADS:
        if data.endswith(lead, 0, at):
            return at - len(lead), family
    return None


def _decode_run(data: bytes, start: int, family: Family) -> Tuple[bytes, int, int]:
    """The run of ``family`` at ``start`` decoded after the character before it, where the run
    ends in ``data``, and where in the decoded bytes the run starts (0 or 1)."""
    end = family.run.match(data, start, start + _RUN).end()  # type: ignore[union-attr]
    lo = max(0, start - family.back, data.rfind(b"\n", max(0, start - family.back), start) + 1)
    text = family.decode(data[lo:start]).decode("utf-8", "surrogateescape")
    before = text[-1:].encode("utf-8", "surrogateescape")
    return before + family.decode(data[start:end]), end, len(before)


def _token_run(data: bytes, pos: int) -> int:
    return _TOKEN.match(data, pos).end() - pos  # type: ignore[union-attr]


@functools.lru_cache(maxsize=8)
def _plain_triggers(ruleset: Ruleset) -> Tuple[Tuple[bytes, Pattern[bytes]], ...]:
    """(anchor, its :func:`plain_trigger`) per anchor."""
    return tuple((anchor, plain_trigger(anchor)) for anchor in sorted(ruleset.anchors()))


@functools.lru_cache(maxsize=8)
def plain_trigger(anchor: bytes) -> Pattern[bytes]:
    """``cp`` then the anchor's last byte or an escape introducer: one literal-led search that
    finds the plain anchor and every place :func:`plain_anchor` starts from. The engine's
    prefilter searches this very pattern, so that finder costs no pass of its own."""
    then = re.escape(anchor[-1:] + ESCAPE_INTRODUCERS)
    return re.compile(re.escape(anchor[:-1]) + b"[%s]" % then)


@functools.lru_cache(maxsize=8)
def _hex_triggers(ruleset: Ruleset) -> Tuple[Tuple[bytes, bytes, Pattern[bytes]], ...]:
    """(anchor, hex of its first byte, its second and third bytes in hex behind any hex-based
    introducer: `70 5f`, `70\\x5f`, `70%5F`, `70\\u005f`, `70;&#x5f`) per anchor."""
    triggers = []
    for anchor in sorted(ruleset.anchors()):
        first = b"%02x" % anchor[0]
        second, third = hex_pair(anchor)
        pattern = second + rb"(?:[^0-9A-Za-z]{0,4}(?:[xX]|u00)?)?(?i:%s)" % third
        triggers.append((anchor, first, re.compile(pattern)))
    return tuple(triggers)


WIDE_SAMPLE = 1024
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_NUL_MAP = bytes([0] + [1] * 255)  # NUL stays 0, any other byte becomes 1
# The NUL pattern of 16 bytes of ASCII in each wide encoding: b"\1\0\1\0…" for UTF-16-LE.
_WIDE_STARTS = {
    bytes(int(i % width == offset) for i in range(16)): (name, width, offset)
    for name, width, offset in WIDE
}


def wide_encoding(head: bytes) -> Optional[Tuple[str, int, int]]:
    """(codec, character width, offset of the ASCII byte in a character) when ``head`` is
    NUL-interleaved ASCII.

    Its first 16 bytes must be exactly that pattern (one ``translate`` and a lookup: a binary
    with many NULs, like a ``.pyc``, fails there), and nine in ten of the first WIDE_SAMPLE.
    """
    if head[:4] in _UTF32_BOMS:  # recognised nowhere else (a UTF-16 BOM is: decoding.py)
        head = head[4:]
    found = _WIDE_STARTS.get(head[:16].translate(_NUL_MAP))
    if found is None or not _interleaved(head, found[1], found[2]):
        return None
    return found


def _interleaved(sample: bytes, width: int, offset: int) -> bool:
    """Nine in ten of the bytes outside the ASCII column NUL, and nine in ten inside not."""
    ascii_bytes = sample[offset::width]
    others = len(sample) - len(ascii_bytes)
    zeros = sample.count(0) - ascii_bytes.count(0)
    return others > 0 and zeros * 10 >= others * 9 and ascii_bytes.count(0) * 10 <= len(ascii_bytes)


def wide_text(data: bytes, ruleset: Ruleset) -> Iterator[Unwrapped]:
    """A prefix in UTF-16 or UTF-32 without a byte-order mark, decoded with its line."""
    encoding = wide_encoding(data[:WIDE_SAMPLE])
    if encoding is None:
        return
    codec, width, offset = encoding
    name = codec.replace("-le", "le").replace("-be", "be")
    newline = "\n".encode(codec)
    for anchor in sorted(ruleset.anchors()):
        image = wide_image(anchor, width, offset)
        pos = data.find(image)
        while pos >= 0:
            start = pos - offset  # the first byte of the prefix's first character
            lo = max(0, start - width)  # one character before it, for the boundary
            end = _line_end(data, start, newline, width)
            decoded = data[lo:end].decode(codec, "replace")
            yield Unwrapped(start, decoded.encode("utf-8", "replace"), name)
            pos = data.find(image, end)


def _line_end(data: bytes, start: int, newline: bytes, width: int) -> int:
    """Where the wide line from ``start`` ends (at most MAX_BODY characters on), whole
    characters only: the token's line, decoded once however many tokens it holds."""
    limit = min(len(data), start + width * (_RUN // 10))
    end = data.find(newline, start, limit)
    while end >= 0 and (end - start) % width:  # a NUL-prefixed newline seen off alignment
        end = data.find(newline, end + 1, limit)
    end = limit if end < 0 else end
    return end - (end - start) % width


TEXT_FINDERS: Tuple[Finder, ...] = (plain_anchor, escaped_prefix, entities)
