"""Run the disguise finders (disguise.py) over an input and turn what they decode into findings.

Which finders an input gets is decided in one place, :func:`finders_for`, because each finder
costs literal passes over the whole input and the plain path must not pay for them:

- a binary input (compiled code by its extension, or a NUL in its first 8 KB unless the NULs
  interleave text as UTF-16/32 does) gets none: a ``.pyc`` holds no base64 worth a pass;
- known source code (by the extension of its path) gets :func:`code_finders`, the cheap ones
  (base64 that starts with an anchor: one literal per anchor; an escape right after ``cp``,
  which the engine's prefilter finds in the pass it makes anyway);
- everything else (YAML, JSON, env, notebooks, logs, docs, no extension, decoded text) gets
  every finder of :func:`finders`.

A finding in a disguise takes the line and column where the disguised run starts, the line
there as its context (so an allow comment on that line counts), and the encoding chain,
outermost first. Findings are reported once per (rule, token, line), plain ones first.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, List, Optional, Set, Tuple

from ..models import Finding, Origin
from .b64 import find_base64, find_base64_whole
from .disguise import MAX_DEPTH, Finder, PlainScan, Unwrapped
from .escapes import (
    TEXT_FINDERS,
    WIDE_SAMPLE,
    holds_no_anchor,
    plain_anchor,
    wide_encoding,
    wide_text,
)
from .positions import (
    CONTEXT,
    Cursor,
    Tally,
    context,
    cut_point,
    line_start_of,
    line_text,
    position_after,
)
from .rules import Ruleset
from .search import Clear

SNIFF = 8192  # bytes looked at to tell binary from text
OVERLAP = 1 << 16  # bytes of a stream's previous piece searched again with the next one
_SPAN = re.compile(rb"[^\s\"'`<>,;]{0,%d}" % CONTEXT)  # the disguised text on its line

# Source code by extension. Data, documentation and shell scripts (which paste credentials
# like config files do) are deliberately absent.
_CODE = (
    "py pyi pyx js mjs cjs jsx ts tsx go rs java kt kts scala c h cc cpp cxx hpp hh m mm cs fs "
    "vb swift rb php pl pm lua dart r jl hs ml ex exs erl clj groovy css scss less vue svelte"
)
CODE_EXTENSIONS = frozenset(f".{extension}" for extension in _CODE.split())

# Compiled code and archives of it: binary whatever their first bytes say, no bytes looked at.
BINARY_EXTENSIONS = frozenset([".pyc", ".pyo", ".a", ".o", ".so", ".dylib", ".dll", ".exe"])

Key = Tuple[str, str, int]  # (rule id, token, line): a finding reported once


def finders() -> Tuple[Finder, ...]:
    """Every finder, in the order their findings are kept when two find the same token."""
    return (find_base64, *TEXT_FINDERS)


def code_finders() -> Tuple[Finder, ...]:
    """The finders known source code gets (module doc): base64 that starts with the anchor,
    and an escape right after a plain ``cp`` (whose search the engine's prefilter makes)."""
    return (find_base64_whole, plain_anchor)


def finders_for(data: bytes, origin: Origin, nested: bool = False) -> Tuple[Finder, ...]:
    """The finders worth their passes over ``data`` (module doc); ``nested``: decoded text."""
    extension = "" if nested else extension_of(origin.path)
    if extension in BINARY_EXTENSIONS:
        return ()
    if data.find(b"\0", 0, SNIFF) >= 0:  # a binary, or text in UTF-16/32 without a BOM
        return (wide_text,) if wide_encoding(data[:WIDE_SAMPLE]) else ()
    return code_finders() if extension in CODE_EXTENSIONS else finders()


def extension_of(path: Optional[str]) -> str:
    """The extension of the innermost name, lowercase (``a.zip!b/c.PY``: ``.py``); "" if none."""
    if path is None:
        return ""
    name = path[path.rfind("/") + 1 :]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def scan_disguised(
    data: bytes,
    origin: Origin,
    ruleset: Ruleset,
    plain: PlainScan,
    depth: int = MAX_DEPTH,
    found: Optional[List[Finding]] = None,
    chosen: Optional[Tuple[Finder, ...]] = None,
    before: Optional[int] = None,
) -> List[Finding]:
    """Findings hidden in disguises in ``data`` (not the plain ones: the caller has those).

    ``plain`` is the engine's plain scan of a decoded run; ``found`` the findings already
    made in ``data``, so a token is reported once however many readings see it; ``chosen``
    the finders, when the caller knows better than :func:`finders_for` which find nothing;
    ``before``: only runs that start before it (a stream's window: the next one holds the rest).
    """
    seen: Set[Key] = {_key(finding) for finding in found or ()}
    result: List[Finding] = []
    nested = depth < MAX_DEPTH
    for finder in finders_for(data, origin, nested) if chosen is None else chosen:
        for unwrapped in finder(data, ruleset):
            if before is not None and unwrapped.start >= before:
                continue
            for finding in _placed(
                data, unwrapped, _inside(unwrapped, origin, ruleset, plain, depth)
            ):
                if _key(finding) not in seen:
                    seen.add(_key(finding))
                    result.append(finding)
    return sorted(result, key=lambda finding: (finding.line, finding.column))


def _inside(
    unwrapped: Unwrapped, origin: Origin, ruleset: Ruleset, plain: PlainScan, depth: int
) -> List[Finding]:
    """Findings in a decoded run: plain ones, then (below the depth cap) disguised ones."""
    inner = plain(unwrapped.data, origin, ruleset)
    if depth > 1:
        inner += scan_disguised(unwrapped.data, origin, ruleset, plain, depth - 1, inner)
    return inner


def _placed(data: bytes, unwrapped: Unwrapped, inner: Iterable[Finding]) -> Iterable[Finding]:
    """``inner`` findings moved to where the disguised run starts in ``data``."""
    start = unwrapped.start
    span = _SPAN.match(data, start)
    end = span.end() if span else start
    line, column = position_after(data, 0, start, 1, 1)
    end_line, end_column = position_after(data, start, end, line, column)
    prev_text = context(data, start, end)[1]
    shown = _hidden(data, start, end, unwrapped.encoding)
    for finding in inner:
        yield finding._replace(
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            line_text=shown,
            prev_line_text=prev_text,
            encoding=(unwrapped.encoding, *finding.encoding),
        )


def _hidden(data: bytes, start: int, end: int, encoding: str) -> str:
    """The run's line with the disguised text itself replaced by ``[base64]``: the encoded
    token is the token, and reports print this line (allow markers around it still count)."""
    line_start = line_start_of(data, start)
    line_end = data.find(b"\n", end, end + CONTEXT)
    line_end = min(len(data), end + CONTEXT) if line_end < 0 else line_end
    return line_text(data[line_start:start] + b"[%s]" % encoding.encode() + data[end:line_end])


def _key(finding: Finding) -> Key:
    return (finding.rule_id, finding.secret, finding.line)


class StreamDisguises:
    """The disguise scan of a stream, fed the reads of the plain scan (``tap``).

    Reads are gathered into pieces of at least OVERLAP bytes (memory stays bounded); each
    piece is searched together with the last OVERLAP bytes before it, so a run cut by a piece
    boundary is still seen whole (up to OVERLAP bytes of it before the cut), and lines are
    counted as the window moves on. A window the trigger of :func:`.escapes.plain_anchor`
    finds nothing in is marked in ``clear`` for the plain search, which comes a read behind.
    A finding is reported once per line, as ``scan_disguised``
    reports it in whole bytes: a token seen again in the overlap is on the same line. A run
    longer than OVERLAP, cut by the window, is seen again from the cut, a place the whole
    bytes never show: a token found there that the stream already reported is not new. A run
    that starts after the cut is left to the next window, which holds it whole: decoded here,
    cut by the window's end, it could spell a token that is not there (a base64 group cut
    before its padding decodes one byte too many).
    """

    def __init__(
        self,
        origin: Origin,
        ruleset: Ruleset,
        plain: PlainScan,
        tally: Optional[Tally] = None,
        clear: Optional[Clear] = None,
    ) -> None:
        self.origin, self.ruleset, self.plain, self.clear = origin, ruleset, plain, clear
        self.window = b""
        self.gathered: List[bytes] = []  # reads not searched yet
        self.size = 0  # their bytes
        self.cursor = Cursor(tally)  # ``tap`` sees the stream from its first byte: no shift
        self.active: Optional[bool] = None  # binary or text: decided on the first SNIFF bytes
        self.found: List[Finding] = []
        self.seen: Set[Key] = set()
        self.tokens: Set[Tuple[str, str]] = set()  # (rule id, token) of every finding reported

    def tap(self, read: Callable[[int], bytes]) -> Callable[[int], bytes]:
        """``read``, with every byte it returns also gathered here."""

        def tapped(size: int) -> bytes:
            piece = read(size)
            if self.active is False:
                return piece  # a binary: nothing gathered, nothing copied
            self.gathered.append(piece)
            self.size += len(piece)
            if self.active is None and self.size >= SNIFF:
                self._decide()
            if self.size >= OVERLAP and self.active:
                self._feed(eof=False)
            return piece

        return tapped

    def finish(self, plain_found: Iterable[Finding]) -> List[Finding]:
        """The disguised findings of the whole stream that no plain finding already reports."""
        self._feed(eof=True)
        taken = {_key(finding) for finding in plain_found}
        return [finding for finding in self.found if _key(finding) not in taken]

    def _decide(self) -> None:
        """Binary or text, on the first SNIFF bytes (or the whole of a shorter stream), never
        on a first read however short: a pipe may hand over two bytes of UTF-16 first."""
        head = b"".join(self.gathered)
        self.active = bool(finders_for(head, self.origin))
        if not self.active:
            self.gathered, self.size = [], 0

    def _feed(self, eof: bool) -> None:
        if self.active is None:
            self._decide()
        piece, self.gathered, self.size = b"".join(self.gathered), [], 0
        if not self.active:
            return
        window = self.window + piece
        chosen = self._finders(window)
        cut = None if eof else cut_point(window, max(0, len(window) - OVERLAP))
        for finding in scan_disguised(
            window, self.origin, self.ruleset, self.plain, chosen=chosen, before=cut
        ):
            from_cut = bool(self.window) and (finding.line, finding.column) == (1, 1)
            finding = self._shifted(finding)
            token = (finding.rule_id, finding.secret)
            if _key(finding) in self.seen or (from_cut and token in self.tokens):
                continue
            self.seen.add(_key(finding))
            self.tokens.add(token)
            self.found.append(finding)
        if cut is not None:
            self.cursor.advance(window, cut)
            self.window = window[cut:]

    def _finders(self, window: bytes) -> Tuple[Finder, ...]:
        """The window's finders; without :func:`.escapes.plain_anchor` where its trigger,
        searched here once, finds nothing: the window is then clear for the plain search."""
        chosen = finders_for(window, self.origin)
        if plain_anchor in chosen and holds_no_anchor(window, self.ruleset):
            if self.clear is not None:
                self.clear.add(self.cursor.offset, self.cursor.offset + len(window))
            return tuple(finder for finder in chosen if finder is not plain_anchor)
        return chosen

    def _shifted(self, finding: Finding) -> Finding:
        """A finding placed in the window, placed in the stream."""
        first = self.cursor.column_chars
        return finding._replace(
            line=finding.line + self.cursor.line - 1,
            column=finding.column + (first if finding.line == 1 else 0),
            end_line=finding.end_line + self.cursor.line - 1,
            end_column=finding.end_column + (first if finding.end_line == 1 else 0),
        )
