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
    from typing import Callable, List, Optional, Tuple

CONTEXT = 4096  # bytes of the token's line kept on each side, for display and allow markers


class Tally:
    """Newlines in a stream, counted once, as each read returns them.

    Every reading of a stream (the plain search, the disguise finders) takes its line numbers
    from this one count. A reading that counted its own windows would count every byte once
    per reading, and one that counted only up to a token would have to read the bytes it had
    dropped a second time. ``marks`` are the counts at the ends of the last few reads: a
    reading's window always ends at one of them.
    """

    def __init__(self) -> None:
        self.end = 0  # stream offset up to which newlines are counted
        self.newlines = 0
        self.marks: List[Tuple[int, int]] = []  # (stream offset, newlines before it)

    def tap(self, read: Callable[[int], bytes]) -> Callable[[int], bytes]:
        """``read``, counting the newlines of every piece it returns."""

        def counted(size: int) -> bytes:
            piece = read(size)
            self.end += len(piece)
            self.newlines += piece.count(b"\n")
            self.marks = [*self.marks[1 - _MARKS :], (self.end, self.newlines)]
            return piece

        return counted

    def newlines_before(self, offset: int) -> Optional[int]:
        """Newlines before stream ``offset``, if a recent read ended there."""
        for end, newlines in reversed(self.marks):
            if end == offset:
                return newlines
        return None


_MARKS = 4  # reads remembered: the plain search feeds a piece after reading the next one


class Cursor:
    """Where ``window[0]`` is in the stream (and, for the engine, where its last token ended).

    With a ``tally`` the line comes from the stream's one newline count (``shift`` is where
    this reading's offset 0 is in the stream: after a UTF-8 BOM); without one (a UTF-16
    transcoding, whose offsets do not map back), the cursor counts the bytes it moves past.
    """

    def __init__(self, tally: Optional[Tally] = None, shift: int = 0) -> None:
        self.offset = 0  # absolute offset of window[0]
        self.line = 1
        self.column_chars = 0  # characters between the last newline and window[0]
        self.last_end = 0  # absolute offset just past the last reported token
        self.blob_end = 0  # absolute offset where the last over-long run of token chars ends
        self.tally, self.shift = tally, shift

    def advance(self, window: bytes, cut: int) -> None:
        """Move past ``window[:cut]``."""
        newline = window.rfind(b"\n", 0, cut)
        if newline < 0:
            self.column_chars += chars(window[:cut])
        else:
            self.line = self._line_at(window, cut, newline)
            self.column_chars = chars(window[newline + 1 : cut])
        self.offset += cut

    def _line_at(self, window: bytes, cut: int, newline: int) -> int:
        """The line at ``window[cut]``: from the tally, counting back from the window's end
        (a few kilobytes), else counting forward over ``window[:cut]``."""
        end = self.shift + self.offset + len(window)
        known = None if self.tally is None else self.tally.newlines_before(end)
        if known is None:
            return self.line + window.count(b"\n", 0, newline + 1)
        return 1 + known - window.count(b"\n", cut)


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
