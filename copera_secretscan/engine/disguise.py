"""Tokens in disguise: encoded, escaped or transcoded text that hides a token's bytes.

The plain search (search.py) sees a token only as ASCII bytes. Real leaks also come as base64
(a Kubernetes Secret, a ``.dockerconfigjson`` whose ``auth`` is base64 again, a JWT segment),
as escapes (``\\u005f``, ``%5F``, ``&#95;``, ``cp\\_pat\\_``, quoted-printable ``=5F``, hex
dumps) and as UTF-16/32 without a byte-order mark. Each *finder* here looks for the images of
a rule prefix in one such disguise by literal search, never by decoding every blob, and
yields the disguised run around each one decoded (:class:`Unwrapped`). The decoded bytes are
judged by the same search and heuristics as plain text, and searched again for a disguise
inside the disguise, up to MAX_DEPTH, so an encoded placeholder is still a placeholder.

A finding in a disguise is reported at the line and column where the disguised run starts,
with its ``encoding`` chain, outermost first.

This module is the interface only: finders (b64.py, escapes.py) import it, and unwrap.py,
which lists the finders and runs them, imports them, so no import goes in a circle.
"""

from __future__ import annotations

from typing import Callable, Iterator, List, NamedTuple

from .rules import Ruleset

TYPE_CHECKING = False  # mypy treats this name as true; the lean hook never loads the models
if TYPE_CHECKING:
    from ..models import Finding, Origin

MAX_DEPTH = 3  # base64 of JSON of base64 (.dockerconfigjson) is 2 deep


class Unwrapped(NamedTuple):
    """A disguised run found in a buffer, decoded."""

    start: int  # byte offset in the buffer where the disguised run begins
    data: bytes  # what it decodes to
    encoding: str  # its name in a finding's chain: "base64", "percent", "utf-16le", ...


Finder = Callable[[bytes, Ruleset], Iterator[Unwrapped]]
PlainScan = Callable[[bytes, "Origin", Ruleset], List["Finding"]]
