"""Which archive or compression format a byte stream starts with, by its magic bytes.

The full scan expands such inputs member by member (archives.py); the lean hook check
(``quick.py``) hands them to it, since a deflated token has no anchor to find. So this
module loads nothing the interpreter has not already loaded at start-up (``typing`` is for
mypy only), and the formats are known here alone.
"""

from __future__ import annotations

TYPE_CHECKING = False  # mypy treats this name as true; the lean hook check never loads typing
if TYPE_CHECKING:
    from typing import Optional

TAR_MAGIC_AT = 257  # a POSIX tar's "ustar" sits after the first header's name and modes
# Two bytes pick the candidate; the whole magic confirms it.
_CANDIDATES = {b"PK": "zip", b"\x1f\x8b": "gzip", b"BZ": "bzip2", b"\xfd7": "xz"}
_MAGIC = {"zip": b"PK\x03\x04", "gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00"}
_BZIP2_BLOCK = b"1AY&SY"  # after "BZh" and the level digit


def archive_kind(data: bytes) -> Optional[str]:
    """The format ``data`` starts with (zip, gzip, bzip2, xz, tar), or None: for nearly every
    input one dict lookup on two bytes and one compare of five."""
    format_ = _CANDIDATES.get(data[:2])
    if format_ is None:
        return "tar" if data[TAR_MAGIC_AT : TAR_MAGIC_AT + 5] == b"ustar" else None
    if not data.startswith(_MAGIC[format_]):
        return None
    return format_ if format_ != "bzip2" or data[4:10] == _BZIP2_BLOCK else None
