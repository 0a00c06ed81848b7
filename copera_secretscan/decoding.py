"""Which encoding a byte stream is in, settled before the search: the engine searches UTF-8.

A UTF-8 BOM is dropped (so line 1's columns are not shifted); UTF-16 with a BOM is transcoded
to UTF-8, so its lines and columns are those of the decoded text. Everything else is searched
as it is: a token is ASCII in every encoding but UTF-16/32. UTF-16 without a BOM and UTF-32
are not recognised.
"""

from __future__ import annotations

import codecs
from typing import Callable, Tuple

SNIFF = 514  # bytes needed to tell UTF-16 text from a binary that starts FF FE
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

Reader = Callable[[int], bytes]  # read(n): up to n bytes, b"" only at the end


def open_stream(read: Reader, chunk_size: int) -> Tuple[Reader, bytes, int]:
    """The reader to scan, its first bytes, and how many input bytes precede the first one
    (3 after a UTF-8 BOM; -1 when transcoded, so that no offset maps back to the input).

    The first read is at least SNIFF bytes whatever ``chunk_size`` (and however short the
    reads are), so that the encoding decision does not depend on how the stream is chunked.
    """
    head = read_at_least(read, max(chunk_size, SNIFF))
    if head[:2] in UTF16_BOMS and looks_like_utf16(head):
        return utf16_as_utf8(read, head), b"", -1
    if head.startswith(UTF8_BOM):
        return read, head[len(UTF8_BOM) :], len(UTF8_BOM)
    return read, head, 0


def read_at_least(read: Reader, size: int) -> bytes:
    """``size`` bytes unless the stream ends first: a pipe may return fewer than asked for."""
    head = read(size)
    while head and len(head) < size:
        more = read(size - len(head))
        if not more:
            break
        head += more
    return head


def looks_like_utf16(head: bytes) -> bool:
    """A UTF-16 BOM *and* text after it, so a binary that starts FF FE stays binary.

    Latin-script UTF-16 has a NUL in every other byte; CJK or emoji has none, but decodes
    without a stray surrogate into printable text, which 512 random bytes almost never do.
    """
    sample = head[2:SNIFF]
    if len(sample) >= 2 and sample.count(0) * 4 >= len(sample):
        return True
    try:
        text = codecs.getincrementaldecoder("utf-16")().decode(head[:SNIFF])
    except UnicodeDecodeError:
        return False
    return sum(char.isprintable() or char in "\t\r\n" for char in text) * 10 >= len(text) * 9


def utf16_as_utf8(read: Reader, first: bytes) -> Reader:
    """A reader of the UTF-8 transcoding of a UTF-16 stream (``first`` is its head, BOM on).

    The decoder may hold back an odd byte or half a surrogate pair and return nothing for a
    non-empty read; returning b"" then would look like the end of the stream, so keep reading.
    """
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    pending = [first]

    def reader(size: int) -> bytes:
        while True:
            raw = pending.pop() if pending else read(size)
            text = decoder.decode(raw, final=not raw)
            if text or not raw:
                return text.encode("utf-8", "surrogatepass")

    return reader
