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
"""

from __future__ import annotations

from typing import Callable, Iterator, List, NamedTuple, Optional, Tuple

from ..models import Finding, Origin
from .rules import Ruleset

MAX_DEPTH = 3  # base64 of JSON of base64 (.dockerconfigjson) is 2 deep


class Unwrapped(NamedTuple):
    """A disguised run found in a buffer, decoded."""

    start: int  # byte offset in the buffer where the disguised run begins
    data: bytes  # what it decodes to
    encoding: str  # its name in a finding's chain: "base64", "percent", "utf-16le", ...


Finder = Callable[[bytes, Ruleset], Iterator[Unwrapped]]
PlainScan = Callable[[bytes, Origin, Ruleset], List[Finding]]


def finders() -> Tuple[Finder, ...]:
    """Every finder, in the order their findings are kept when two find the same token."""
    return ()


def scan_disguised(
    data: bytes,
    origin: Origin,
    ruleset: Ruleset,
    plain: PlainScan,
    depth: int = MAX_DEPTH,
    found: Optional[List[Finding]] = None,
) -> List[Finding]:
    """Findings hidden in disguises in ``data`` (not the plain ones: the caller has those).

    ``plain`` is the engine's plain scan of a decoded run; ``found`` the findings already
    made in ``data``, so a token is reported once however many readings see it.
    """
    return []
