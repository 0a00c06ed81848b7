"""Archives and compressed files: the members a zip, a tar or a gzip/bzip2/xz stream holds.

Builds ship zips (jar, whl, docx and xlsx are zips too) and logs are gzipped; a token inside
is as leaked as one in plain text, but its bytes are not there to search. It knows the
formats by their first bytes (magic.py), never by a file's name, and turns an archive
into ``(member name, bytes)`` pairs (:class:`Member`) or a problem string saying why it stopped.
The pipeline scans each member like a file and reports it at ``outer.zip!inner/path``.

Every expansion is bounded (:class:`Limits`): members per archive, expanded bytes per archive
and in total per input (a :class:`Budget` shared by nested archives), and depth (the
pipeline's). A zip bomb expands to the cap and no further: decompressors are asked for at
most the bytes left, never for a whole member. Standard library only.
"""

from __future__ import annotations

import io
import zlib
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, NamedTuple, Union

if TYPE_CHECKING:  # the format modules load when an archive is met, not with every scan
    import zipfile

from .magic import archive_kind as kind

MiB = 1 << 20
# How to raise each cap, named in the problem it causes (the config keys of settings.py).
DEPTH_KEY, MEMBERS_KEY, BYTES_KEY, TOTAL_KEY = (
    "archive_depth",
    "archive_members",
    "archive_bytes",
    "archive_total_bytes",
)


class Limits(NamedTuple):
    """How far an archive is expanded. ``depth`` 0 turns expansion off."""

    depth: int = 4  # archives inside archives: a jar in a war in an ear is 3
    members: int = 5000  # per archive; a big jar holds a few thousand classes
    bytes: int = 64 * MiB  # expanded bytes per archive (and the most of one read into memory)
    total: int = 256 * MiB  # expanded bytes per input, nested archives included


class Member(NamedTuple):
    """One file an archive holds: its name inside the archive and its bytes."""

    name: str
    data: bytes


class Budget:
    """The expanded bytes an input may still produce, shared by all its nested archives."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.left = limits.total


Item = Union[Member, str]  # a member, or a problem: why the expansion stopped


class _Stop(Exception):
    """A cap or a corrupt archive: the message says which, and how to raise a cap."""


def members(data: bytes, name: str, budget: Budget) -> Iterator[Item]:
    """The members of archive ``data`` (its own file name is ``name``), then, if the expansion
    stopped early, one problem string (a cap, or a corrupt or truncated archive)."""
    format_ = kind(data)
    if format_ is None:
        return
    import lzma
    import tarfile
    import zipfile

    try:
        yield from _READERS[format_](data, name, budget)
    except _Stop as stop:
        yield str(stop)
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError) as exc:
        yield f"corrupt {format_} archive ({exc}): scanned as plain bytes"
    except (EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        yield f"unreadable {format_} archive ({exc or type(exc).__name__}): scanned as plain bytes"


def _zip(data: bytes, name: str, budget: Budget) -> Iterator[Member]:
    """Stored and deflated members, in the order of the central directory."""
    import zipfile

    expanded = _Counter(budget)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            expanded.count_member()
            if info.is_dir():
                yield Member(info.filename, b"")
                continue
            if info.flag_bits & 0x1:
                raise _Stop(f"member {info.filename!r} is encrypted: not scanned")
            yield Member(info.filename, _zip_member(archive, info, data, expanded))


def _zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes, expanded: _Counter
) -> bytes:
    """A member's bytes, CRC checked. Stored and deflated ones (nearly all) are cut from
    ``data`` and inflated here: zipfile's reader object costs more than the inflating of a
    typical small member. Other methods go through zipfile."""
    import zipfile

    start = _member_start(data, info)
    if start < 0 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        with archive.open(info) as handle:
            return expanded.read(handle.read)
    raw = data[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        member = expanded.take(raw)
    else:
        inflate = zlib.decompressobj(-zlib.MAX_WBITS)
        member = expanded.take(inflate.decompress(raw, expanded.room() + 1))
        if not inflate.eof:
            raise zipfile.BadZipFile(f"truncated data in member {info.filename!r}")
    if zlib.crc32(member) != info.CRC or len(member) != info.file_size:
        raise zipfile.BadZipFile(f"bad CRC-32 for member {info.filename!r}")
    return member


def _member_start(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where a member's bytes start (after its local header), or -1 to let zipfile read it
    (a header that is not where the directory says: a zip with bytes prepended)."""
    at = info.header_offset
    header = data[at : at + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return -1
    names, extra = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    return at + 30 + names + extra


def _tar(data: bytes, name: str, budget: Budget) -> Iterator[Member]:
    """Regular files, and the names of everything else (a directory's name may hold a token)."""
    import tarfile

    expanded = _Counter(budget)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        for info in archive:
            expanded.count_member()
            handle = archive.extractfile(info) if info.isfile() else None
            if handle is None:
                yield Member(info.name, b"")
                continue
            expanded.check_size(info.size)  # a sparse member claims more than its bytes
            yield Member(info.name, expanded.read(handle.read))


def _stream(
    decompressor: Callable[[], object], suffixes: Dict[str, str]
) -> Callable[[bytes, str, Budget], Iterator[Member]]:
    """A reader for one compressed stream: its one member is named after the file without the
    suffix (``app.log.gz`` holds ``app.log``); a tar inside (``.tar.gz``, ``.tgz``) is
    expanded in place, so its members are named directly (``x.tgz!dir/file``)."""

    def read(data: bytes, name: str, budget: Budget) -> Iterator[Member]:
        plain = _decompress(decompressor, data, _Counter(budget))
        if kind(plain) == "tar":
            budget.left += len(plain)  # charged again member by member: count it once
            yield from _tar(plain, name, budget)
            return
        yield Member(_inner_name(name, suffixes), plain)

    return read


def _decompress(decompressor: Callable[[], object], data: bytes, expanded: _Counter) -> bytes:
    """Every concatenated stream of ``data`` (``cat a.gz b.gz`` is a valid gzip), capped."""
    parts = []
    while data:
        engine: Any = decompressor()
        parts.append(expanded.take(engine.decompress(data, expanded.room() + 1)))
        if not engine.eof:
            raise _Stop("truncated compressed stream: scanned as plain bytes")
        data = engine.unused_data
        if data.strip(b"\0"):  # tar-style zero padding after the stream is no new stream
            continue
        break
    return b"".join(parts)


def _inner_name(name: str, suffixes: Dict[str, str]) -> str:
    lowered = name.lower()
    for suffix, replacement in suffixes.items():
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + replacement
    return name  # no telling suffix: the member is named like its archive


class _Counter:
    """Members and expanded bytes of one archive, against its caps and the input's budget."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.members = 0
        self.bytes = 0

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.budget.limits.members:
            limit = self.budget.limits.members
            raise _Stop(_capped(f"more than {limit} members: the rest not scanned", MEMBERS_KEY))

    def room(self) -> int:
        """The bytes this archive may still expand to."""
        return max(0, min(self.budget.limits.bytes - self.bytes, self.budget.left))

    def check_size(self, size: int) -> None:
        """Stop before reading a member that says it is bigger than the room left."""
        if size > self.room():
            self.over()

    def read(self, read: Callable[[int], bytes]) -> bytes:
        return self.take(read(self.room() + 1))

    def take(self, data: bytes) -> bytes:
        """``data`` counted, or the cap it goes over (a read of room + 1 bytes tells)."""
        if len(data) > self.room():
            self.over()
        self.bytes += len(data)
        self.budget.left -= len(data)
        return data

    def over(self) -> None:
        """Raise the cap that leaves no room: this archive's, or the whole input's."""
        if self.budget.left < self.budget.limits.bytes - self.bytes:
            total = self.budget.limits.total
            raise _Stop(_capped(f"input expands to more than {total} bytes", TOTAL_KEY))
        limit = self.budget.limits.bytes
        raise _Stop(_capped(f"expands to more than {limit} bytes", BYTES_KEY))


def _capped(what: str, key: str) -> str:
    return f"archive {what} (cap: raise {key} in the configuration)"


def _module(name: str) -> Any:
    """A decompressor's module, imported the first time such a stream is met."""
    from importlib import import_module

    return import_module(name)


_GZIP = {".tgz": ".tar", ".gz": "", ".gzip": ""}
_BZIP2 = {".tbz2": ".tar", ".tbz": ".tar", ".bz2": ""}
_XZ = {".txz": ".tar", ".xz": ""}

_READERS: Dict[str, Callable[[bytes, str, Budget], Iterator[Member]]] = {
    "zip": _zip,
    "tar": _tar,
    "gzip": _stream(lambda: zlib.decompressobj(16 + zlib.MAX_WBITS), _GZIP),
    "bzip2": _stream(lambda: _module("bz2").BZ2Decompressor(), _BZIP2),
    "xz": _stream(lambda: _module("lzma").LZMADecompressor(), _XZ),
}
