"""Lines, columns and context lines for tokens found in a window of a byte stream.

``line`` counts ``\\n``; ``column`` counts characters since the last ``\\n``, where a character is
a valid UTF-8 sequence or, failing that, one undecodable byte (Python's ``surrogateescape``).
So columns are exact for UTF-8 and for single-byte encodings (latin-1, cp1252: one byte, one
character, as an editor set to that encoding shows them, unless the bytes happen to form valid
UTF-8). For multi-byte legacy encodings (Shift-JIS, GBK, EUC-KR) each undecodable byte counts,
so the column is at least the true one (usually two per character); the line is always right.
This count is additive over any split that does not cut a valid UTF-8 sequence, which is what
lets the engine count a stream window by window (see ``cut_point``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import Callable, Optional, Tuple

    Rereader = Optional[Callable[[int, int], bytes]]  # (offset, size) -> the input's bytes there
else:
    Rereader = None  # a type for mypy only; the name stays for modules that import it

CONTEXT = 4096  # bytes of the token's line kept on each side, for display and allow markers


class Cursor:
    """Where ``window[0]`` is in the stream (and, for the engine, where its last token ended)."""

    def __init__(self) -> None:
        self.offset = 0  # absolute offset of window[0]
        self.line = 1
        self.column_chars = 0  # characters between the last newline and window[0]
        self.last_end = 0  # absolute offset just past the last reported token
        self.blob_end = 0  # absolute offset where the last over-long run of token chars ends
        self.counted = 0  # absolute offset that ``line`` and ``column_chars`` describe

    def advance(self, window: bytes, cut: int, lazy: bool = False) -> None:
        """Move past ``window[:cut]``; ``lazy`` leaves its lines uncounted until catch_up."""
        if not lazy and self.counted == self.offset:
            self._count(window[:cut])
        self.offset += cut

    def catch_up(self, reread: Callable[[int, int], bytes]) -> None:
        """Count the lines that lazy advances skipped, reading them again with ``reread``.

        Counting newlines costs as much as searching for tokens, and almost no window of a
        large file holds a token, so a seekable input is counted only up to a window that does.
        """
        while self.counted < self.offset:
            piece = reread(self.counted, min(_RECOUNT, self.offset - self.counted))
            if not piece:
                return  # the file shrank under us: lines stay as counted so far
            last = self.counted + len(piece) >= self.offset
            self._count(piece if last else piece[: cut_point(piece, len(piece) - 1)])

    def _count(self, segment: bytes) -> None:
        newlines = segment.count(b"\n")
        if newlines:
            self.line += newlines
            self.column_chars = chars(segment[segment.rindex(b"\n") + 1 :])
        else:
            self.column_chars += chars(segment)
        self.counted += len(segment)


_RECOUNT = 1 << 20


def cut_point(window: bytes, cut: int) -> int:
    """``cut`` moved back so that it does not split a UTF-8 sequence (columns stay additive)."""
    for back in range(cut, cut - 4, -1):
        if back <= 0:
            return 0  # keep everything rather than cut into the first character
        if not 0x80 <= window[back] < 0xC0:
            return back
    return cut  # four continuation bytes in a row: no valid sequence spans the cut


def position_after(window: bytes, start: int, end: int, line: int, column: int) -> Tuple[int, int]:
    """(line, column) at ``end``, given them at ``start``; neither splits a UTF-8 sequence."""
    newline = window.rfind(b"\n", start, end)
    if newline < 0:
        return line, column + chars(window[start:end])
    return line + window.count(b"\n", start, end), chars(window[newline + 1 : end]) + 1


def context(window: bytes, start: int, end: int) -> Tuple[str, str]:
    """The token's line and the line before it, each clipped to CONTEXT bytes around the token.

    Clipped, because a minified line of megabytes with thousands of tokens must not be copied
    once per token; an allow marker counts only within CONTEXT bytes of the token.
    """
    line_start = line_start_of(window, start)
    line_end = window.find(b"\n", end, end + CONTEXT)
    line_end = min(len(window), end + CONTEXT) if line_end < 0 else line_end
    prev = ""
    if line_start > 0 and window[line_start - 1] == 0x0A:
        prev = line_text(window[line_start_of(window, line_start - 1) : line_start - 1])
    return line_text(window[line_start:line_end]), prev


def line_start_of(window: bytes, offset: int) -> int:
    """Start of the line holding ``offset``, or CONTEXT bytes back if the line is longer."""
    floor = max(0, offset - CONTEXT)
    newline = window.rfind(b"\n", floor, offset)
    return floor if newline < 0 else newline + 1


def line_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")


def chars(raw: bytes) -> int:
    """Characters in ``raw``: one per valid UTF-8 sequence, one per other byte (module doc)."""
    return len(raw) if raw.isascii() else len(raw.decode("utf-8", "surrogateescape"))
