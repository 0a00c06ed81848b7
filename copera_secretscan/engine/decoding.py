"""Which readings of a byte stream the engine searches: its raw bytes always, and its UTF-16.

The engine searches UTF-8. A token is ASCII in every encoding but UTF-16/32, so the raw bytes
are always searched, whatever a byte-order mark claims: a BOM describes at most the bytes
right after it. PowerShell's ``>`` writes ``FF FE`` and UTF-16LE text, and Git Bash's ``>>``
then appends plain ASCII to the same file; transcoding the whole file as UTF-16 would turn
that ASCII into CJK characters and hide a token in it. A UTF-8 BOM is dropped from the raw
reading (so line 1's columns are not shifted). A stream that starts with a UTF-16 BOM is also
transcoded to UTF-8 and searched a second time, its lines and columns those of the decoded
text; where the rest is not UTF-16 at all (a binary that starts ``FF FE``) that reading is
noise without tokens, and the raw reading still sees every ASCII byte. UTF-16 without a BOM
and UTF-32 are not recognised.

The lean hook check (``quick.py``) refuses a UTF-16 stream by these same BOMs, so this module
loads nothing the interpreter has not already loaded at start-up (``typing`` is for mypy only).
"""

from __future__ import annotations

import binascii
import codecs

TYPE_CHECKING = False  # mypy treats this name as true; the lean hook check never loads typing
if TYPE_CHECKING:
    from typing import Callable, Optional, Tuple

    Reader = Callable[[int], bytes]  # read(n): up to n bytes, b"" only at the end
    Transcoder = Callable[[bytes, bool], bytes]  # (raw bytes, final) -> their UTF-8 transcoding

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SNIFF = len(UTF8_BOM)  # bytes needed to see any BOM
JSON_MARK = b"eyJ"  # base64 of `{"` and a letter: the start of every compact JSON object
_URL_ALPHABET = bytes.maketrans(b"+/", b"-_")


def open_stream(read: Reader, chunk_size: int) -> Tuple[bytes, int, Optional[Transcoder]]:
    """The first raw bytes to search, how many input bytes precede them (3 after a UTF-8 BOM),
    and the transcoder of a second, UTF-16 reading (None without a UTF-16 BOM).

    The first read is at least SNIFF bytes whatever ``chunk_size`` (and however short the
    reads are), so that no BOM goes unseen because the stream came in small pieces. The
    transcoder is fed the whole raw stream, this first read included.
    """
    head = read_at_least(read, max(chunk_size, SNIFF))
    if head.startswith(UTF8_BOM):
        return head[len(UTF8_BOM) :], len(UTF8_BOM), None
    return head, 0, utf16_transcoder() if head[:2] in UTF16_BOMS else None


def read_at_least(read: Reader, size: int) -> bytes:
    """``size`` bytes unless the stream ends first: a pipe may return fewer than asked for."""
    head = read(size)
    while head and len(head) < size:
        more = read(size - len(head))
        if not more:
            break
        head += more
    return head


def utf16_transcoder() -> Transcoder:
    """UTF-8 for successive pieces of a UTF-16 stream that starts with its BOM.

    Every BOM is taken at its word: the raw reading covers the case where it lies, so telling
    UTF-16 text from a binary that starts ``FF FE`` is not needed for correctness, and a
    short UTF-16 line followed by binary would fool any such test. Undecodable units become
    U+FFFD (no surrogate can reach the encoder); the decoder may hold back an odd byte or half
    a surrogate pair until the next piece, and gives it up (as U+FFFD) when ``final``.
    """
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")

    def transcode(raw: bytes, final: bool) -> bytes:
        return decoder.decode(raw, final).encode("utf-8", "surrogatepass")

    return transcode


def base64_images(anchor: bytes, alignment: int) -> Tuple[Tuple[bytes, int], ...]:
    """What ``anchor`` looks like in base64 and base64url when it starts ``alignment`` bytes
    into a 3-byte group: the characters it alone decides, and how many characters of the
    group come before them (``cp_``: ``Y3Bf`` at 0, ``NwX`` at 1 after 2, ``jcF`` at 2 after 3).

    Here, beside the BOMs, because the lean hook check searches these images too.
    """
    encoded = binascii.b2a_base64(bytes(alignment) + anchor + bytes(2), newline=False)
    first = -(-8 * alignment // 6)  # the first character made of anchor bits only
    text = encoded[first : 8 * (alignment + len(anchor)) // 6]
    url = text.translate(_URL_ALPHABET)
    return ((text, first),) if url == text else ((text, first), (url, first))


# Where the escape finders (escapes.py) start, here beside the base64 images because the lean
# hook check must hand every file a finder could decode to the full scanner: one list for both.
ESCAPE_INTRODUCERS = b"\\%&="  # may stand after ``cp`` where an escape of ``_`` starts
NAMED_UNDERSCORES = (b"lowbar", b"UnderBar")  # HTML's named entities for ``_``
WIDE = (("utf-32-le", 4, 0), ("utf-32-be", 4, 3), ("utf-16-le", 2, 0), ("utf-16-be", 2, 1))


def escape_leads(anchor: bytes) -> Tuple[bytes, ...]:
    """``cp\\``, ``cp%``, ``cp&``, ``cp=``: an anchor whose last byte an escape may hide."""
    return tuple(anchor[:-1] + bytes([lead]) for lead in ESCAPE_INTRODUCERS)


def hex_pair(anchor: bytes) -> Tuple[bytes, bytes]:
    """The hex of the anchor's second and third bytes (``70``, ``5f``): a fully escaped prefix
    or a hex dump shows both, whatever the escape between them."""
    return b"%02x" % anchor[1], b"%02x" % anchor[2]


def wide_image(anchor: bytes, width: int, offset: int) -> bytes:
    """The anchor in UTF-16/32 without its first character's leading NULs (so that a match
    tells where the character starts, ``offset`` bytes before it).

    An anchor is ASCII, so each character is its byte with ``width - 1`` NULs after it (little
    endian) or before it (big endian, ``offset`` > 0): built by hand, which spares the lean hook
    check four codec lookups at start-up.
    """
    pad = bytes(width - 1)
    wide = b"".join(pad + bytes([c]) if offset else bytes([c]) + pad for c in anchor)
    return wide[offset:][: width * len(anchor) - offset]


def disguise_literals(anchor: bytes) -> Tuple[bytes, ...]:
    """Every literal a disguise finder starts from, for one anchor: base64 images at each
    alignment, base64 JSON, escape leads, HTML entities, UTF-16/32 images. The hex pair is
    not a literal (the escape between its halves varies): see :func:`hex_pair`."""
    images = {text for n in range(3) for text, _ in base64_images(anchor, n)}
    entities = (b"&#", *(b"&" + name + b";" for name in NAMED_UNDERSCORES))
    wide = (wide_image(anchor, width, offset) for _, width, offset in WIDE)
    return (*sorted(images), JSON_MARK, *escape_leads(anchor), *entities, *wide)
