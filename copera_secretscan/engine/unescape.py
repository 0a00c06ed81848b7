"""Escape syntaxes that can hide a token's characters, each with its run and its decoder.

A :class:`Family` knows what a run of its escapes mixed with token characters looks like and
how to decode one; escapes.py decides where such a run may hide a prefix. Decoders never
raise: a malformed escape is left as it is (the plain search then sees no token in it).
"""

from __future__ import annotations

import binascii
import re
from typing import Callable, NamedTuple, Optional, Pattern

_T = rb"[A-Za-z0-9_-]"  # a token character (rules.TOKEN_CHARS)


class Family(NamedTuple):
    """An escape syntax: its name in a finding's ``encoding`` chain, its run and its decoder."""

    name: str
    run: Pattern[bytes]  # escapes of this family and token characters, from a position
    decode: Callable[[bytes], bytes]
    # Raw bytes before a run that may hold the character before the token: the longest escape
    # and some; a dump's byte before is its previous two digits (`30` in `3063705f`) or none.
    back: int = 24


def _json(raw: bytes) -> bytes:
    """``\\uXXXX`` escapes, surrogate pairs joined (an emoji before a token stays one)."""
    text = _UNICODE.sub(lambda m: chr(int(m.group(1), 16)), raw.decode("latin-1"))
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode()


def _c(raw: bytes) -> bytes:
    """``\\xHH`` and octal ``\\ooo`` escapes, as C, Python and shell ``$'…'`` write them."""
    return _C.sub(lambda m: bytes([int(m[1], 16) if m[1] else int(m[2], 8) & 0xFF]), raw)


def _entity(match: re.Match[str]) -> str:
    """One entity; numeric ones without ``html.unescape``, which costs ten times more each."""
    decimal, hexadecimal = match.group(1), match.group(2)
    if decimal is None and hexadecimal is None:
        import html  # deferred: its table of names loads only for a named entity

        return html.unescape(match.group())  # named: `&lowbar;`, `&quot;`
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return chr(code) if code < 0xD800 or 0xE000 <= code < 0x110000 else "\ufffd"


def _percent(raw: bytes) -> bytes:
    """Percent-decoding, twice: ``%255F`` (encoded again) hides ``_`` too."""
    once = _PERCENT.sub(lambda m: bytes([int(m[1], 16)]), raw)
    return _PERCENT.sub(lambda m: bytes([int(m[1], 16)]), once)


def _hex(raw: bytes) -> bytes:
    """A hex dump (``63705f…``, ``63 70 5f …``, bytea ``\\x63705f…``) back to its bytes."""
    digits = raw.removeprefix(b"\\x").replace(b" ", b"")
    try:
        return binascii.unhexlify(digits[: len(digits) // 2 * 2])
    except binascii.Error:  # not a dump (the text before one): nothing to add
        return b""


_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_C = re.compile(rb"\\x([0-9a-fA-F]{2})|\\([0-7]{1,3})")
_PERCENT = re.compile(rb"%([0-9a-fA-F]{2})")
_ENTITY = re.compile(r"&#([0-9]{1,7});|&#[xX]([0-9a-fA-F]{1,6});|&[A-Za-z]{2,8};")
_MARKDOWN = re.compile(rb"\\([_-])")

JSON = Family("json-escape", re.compile(rb"(?:\\u[0-9a-fA-F]{4}|%s)*" % _T), _json)
C = Family("c-escape", re.compile(rb"(?:\\x[0-9a-fA-F]{2}|\\[0-7]{1,3}|%s)*" % _T), _c)
MARKDOWN = Family(
    "markdown-escape",
    re.compile(rb"(?:\\[_-]|%s)*" % _T),
    lambda raw: _MARKDOWN.sub(rb"\1", raw),
)
PERCENT = Family("percent", re.compile(rb"(?:%%[0-9a-fA-F]{2}|%s)*" % _T), _percent)
HTML = Family(
    "html-entity",
    re.compile(rb"(?:&#[0-9]{1,7};|&#[xX][0-9a-fA-F]{1,6};|&[A-Za-z]{2,8};|%s)*" % _T),
    lambda raw: _ENTITY.sub(_entity, raw.decode("latin-1")).encode("utf-8", "surrogatepass"),
)
QUOTED_PRINTABLE = Family(
    "quoted-printable", re.compile(rb"(?:=[0-9A-Fa-f]{2}|=\r?\n|%s)*" % _T), binascii.a2b_qp
)
HEX = Family("hex", re.compile(rb"(?:\\x)?(?:[0-9a-fA-F]{2})*"), _hex, back=2)
SPACED_HEX = Family("hex", re.compile(rb"[0-9a-fA-F]{2}(?: [0-9a-fA-F]{2})*"), _hex, back=3)

# What the first bytes of an escape look like, family by family.
_INTRODUCERS = (
    (re.compile(rb"\\u[0-9a-fA-F]{4}"), JSON),
    (re.compile(rb"\\(?:x[0-9a-fA-F]{2}|[0-7])"), C),
    (re.compile(rb"\\[_-]"), MARKDOWN),
    (re.compile(rb"%[0-9a-fA-F]{2}"), PERCENT),
    (re.compile(rb"&(?:#[0-9]|#[xX][0-9a-fA-F]|[A-Za-z]{2,8};)"), HTML),
    (re.compile(rb"=[0-9A-F]{2}"), QUOTED_PRINTABLE),  # upper case only, as RFC 2045 says
)
_SOFT_BREAK = re.compile(rb"=\r?\n")
QP_LINE = 76  # quoted-printable lines, and so those ending in a soft break, are this long
# The family of a hex-based escape, told by what precedes its two hex digits.
HEX_LEADS = (
    (b"\\u00", JSON),
    (b"\\x", C),
    (b"%", PERCENT),
    (b"=", QUOTED_PRINTABLE),
)  # not `&#x`: escapes.entities finds any entity already


def family_at(data: bytes, pos: int) -> Optional[Family]:
    """The family whose escape starts at ``pos``, if any.

    A ``=`` that ends a line is a quoted-printable soft break only where the line is as long
    as an encoder makes it (it may stop up to two short, not to split an ``=XX``): elsewhere
    (``key=`` + newline) it is no escape, and reading it as one would glue the next line to
    a plain token.
    """
    family = next((fam for intro, fam in _INTRODUCERS if intro.match(data, pos)), None)
    if family is None and _SOFT_BREAK.match(data, pos):
        line = pos + 1 - (data.rfind(b"\n", 0, pos) + 1)
        return QUOTED_PRINTABLE if QP_LINE - 2 <= line <= QP_LINE else None
    return family
