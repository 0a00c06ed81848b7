"""Git objects as scan input: blobs from ``git cat-file --batch``, commit and tag messages, trees
(read, and reported when missing), the staged index and the message file of a commit being made.

Each source here is a generator of items for the pipeline (:class:`~.models.Input`,
:class:`~.models.Name`, :class:`Tree`, :class:`~.models.Problem`) and scans nothing itself.
Each object is yielded once; one that git cannot give is a problem, never a silent gap. A blob
up to ``CHUNK_SIZE`` is read whole; a larger one is yielded as a reader bounded to the blob,
straight off the pipe, valid until the next item is asked for, so memory stays bounded whatever
the blob size. Nothing here knows about provenance: ``history.py`` turns blob findings into
the commits that introduced them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import (
    IO,
    Callable,
    FrozenSet,
    Iterator,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Union,
)

from ..errors import FatalError
from ..models import CHUNK_SIZE, Input, Name, Origin, Problem, Reader, origin_of, printable
from . import git, gitenv, gitobjects
from .readfile import read_whole, reason
from .targets import display_path

MISSING = "object missing or unreadable (partial or damaged clone); not fetched, not scanned"


class Header(NamedTuple):
    """One ``cat-file --batch`` header: ``name`` is rev-list's path for a blob or tree, or what we
    asked for when git reports the object missing. A tuple, not a frozen dataclass: a history
    makes one per object, trees included, and a tuple is built in half the time."""

    oid: str
    kind: str
    size: int
    name: str


@dataclass(frozen=True)
class Message:
    """Who wrote a commit or annotated tag message, for the report and to pick the oldest."""

    commit: str  # the commit itself, or the object a tag points at
    author: str
    date: str  # ISO 8601
    time: int  # seconds since the epoch
    oid: str = ""  # the commit or tag object that carries the message
    tag: Optional[str] = None  # the tag's name, for a tag message


class Tree(NamedTuple):
    """A tree object, whole: the pipeline searches the names it lists (:func:`tree_paths`)."""

    header: Header
    data: bytes


class MessageHead(NamedTuple):
    """What a message input carries back: its object and the header lines above the message,
    parsed (:func:`message_of`) only for the rare message that holds a token."""

    header: Header
    head: bytes


Item = Union[Input, Name, Tree, Problem]
_MESSAGE = Origin(None)  # where a message's findings are until the pipeline places them
SHALLOW = (
    "shallow clone: the commits before its boundary are not here and were not scanned; fetch "
    "them (git fetch --unshallow; actions/checkout: fetch-depth: 0; GitLab: GIT_DEPTH: 0)"
)


def read_header(stream: IO[bytes]) -> Optional[Header]:
    """The next header, or None at the end of the stream."""
    line = stream.readline()
    return Header(*gitenv.batch_header(line)) if line else None


def skip_object(stream: IO[bytes], header: Optional[Header]) -> None:
    """Consume an object we do not scan (a missing one has no content)."""
    if header is not None and header.kind != "missing":
        stream.read(header.size + 1)


def read_object(stream: IO[bytes], header: Header) -> bytes:
    """The whole of a tree, commit or tag (never a blob: that may be huge), checked to be all
    there, so a stream cut short is an error rather than a shorter object."""
    data = stream.read(header.size + 1)
    _expect(len(data) == header.size + 1 and data.endswith(b"\n"), header.name or header.oid)
    return data[:-1]


def blob_input(
    stream: IO[bytes], size: int, origin: Origin, about: object = None
) -> Iterator[Input]:
    """The next ``size`` bytes of ``stream`` as one input; consumes the blob and its newline
    when resumed, so the stream stays in step for the next object."""
    if size <= CHUNK_SIZE:
        data = stream.read(size)
        _expect(len(data) == size, origin.path)
        yield Input(origin, data, about=about)
    else:
        yield Input(origin, read=_bounded(stream, size, origin), about=about)
    _expect(stream.read(1) == b"\n", origin.path)


def _bounded(stream: IO[bytes], size: int, origin: Origin) -> Reader:
    """A reader that returns exactly the blob's bytes, then end-of-file."""
    left = [size]

    def read(n: int) -> bytes:
        data = stream.read(min(n, left[0])) if left[0] else b""
        left[0] -= len(data)
        _expect(bool(data) or not left[0], origin.path)
        return data

    return read


def _expect(ok: bool, name: Optional[str]) -> None:
    if not ok:
        raise FatalError(f"git cat-file output ended early in {name or 'an object'}")


def salvage(exc: FatalError, found_any: bool) -> Problem:
    """A git failure once tokens were found becomes a Problem, so they are still reported (exit 1
    and every error printed, as for any scan that finds and fails). Before that it stays fatal:
    one line, exit 2."""
    if not found_any:
        raise exc
    return Problem(None, str(exc))


def cat_inputs(
    wanted: Sequence[Tuple[str, Origin, object]],
    missing: Callable[[Origin, object], Item],
    cwd: Optional[str] = None,
) -> Iterator[Item]:
    """An input for each (blob id, origin, about), in order; ``missing(origin, about)`` for a
    blob git cannot give (a Problem, or it raises)."""
    with gitobjects.cat_blobs([oid for oid, _, _ in wanted], cwd) as stream:
        for _, origin, about in wanted:
            header = read_header(stream)
            if header is None or header.kind != "blob":
                skip_object(stream, header)
                yield missing(origin, about)
                continue
            yield from blob_input(stream, header.size, origin, about)


def object_items(stream: IO[bytes], boundary: FrozenSet[str] = frozenset()) -> Iterator[Item]:
    """Every object of a ``gitobjects.object_stream``: each blob (``about`` its id), each tree,
    each commit and tag message; an object git could not give us is a problem, never a skip.
    Reaching a commit of a shallow clone's ``boundary`` is a problem too: history stops there."""
    cut_short = False
    header = read_header(stream)
    while header is not None:
        if header.kind == "blob":
            yield from blob_input(
                stream, header.size, Origin(header.name or header.oid), header.oid
            )
        elif header.kind == "tree":
            yield Tree(header, read_object(stream, header))
        elif header.kind in ("commit", "tag"):
            if header.oid in boundary and not cut_short:
                cut_short = True
                yield Problem(None, SHALLOW)
            yield message_input(header, read_object(stream, header))
        else:
            yield _unread(stream, header)
        header = read_header(stream)


def tree_paths(header: Header, data: bytes) -> Iterator[str]:
    """The path of each entry a tree lists (``<mode> <name>\\0<raw id>``), rev-list's path of
    the tree in front."""
    id_size = len(header.oid) // 2
    at = 0
    while at < len(data):
        space = data.find(b" ", at)
        end = data.find(b"\0", space + 1)
        if space < 0 or end < 0:
            return  # not a tree entry: git refuses such a tree before we see it
        name = data[space + 1 : end].decode("utf-8", "surrogateescape")
        yield f"{header.name}/{name}" if header.name else name
        at = end + 1 + id_size


def _unread(stream: IO[bytes], header: Header) -> Problem:
    """An object cat-file could not give (missing, corrupt, left out of a partial clone), or
    of a type nothing here knows: either way its bytes went unscanned."""
    if header.kind == "missing":
        return Problem(header.name.lstrip("?"), MISSING)
    skip_object(stream, header)
    reason = f"unexpected object type {header.kind!r}; not scanned"
    return Problem(header.name or header.oid, reason)


def message_input(header: Header, data: bytes) -> Input:
    """A commit or tag message as an input (``line`` counts from its first line). Its findings
    carry no commit until :func:`message_of` names the one they are reported at (a tag's: the
    tagged object): one Origin for every message, as nearly none holds a token."""
    head, _, body = data.partition(b"\n\n")
    return Input(_MESSAGE, body, about=MessageHead(header, head), file=False)


def message_of(carried: MessageHead) -> Message:
    """Who wrote a message, and the commit it is reported at (a tag's: the tagged object)."""
    header, head = carried
    fields = dict(line.partition(b" ")[::2] for line in reversed(head.split(b"\n")))
    message = _message(header.oid, fields.get(b"author") or fields.get(b"tagger") or b"")
    if header.kind == "tag":  # report it at the tagged object, but as the tag's own message
        target = fields.get(b"object", b"").decode("ascii") or header.oid
        name = fields.get(b"tag", b"").decode("utf-8", "replace") or header.oid
        message = replace(message, commit=target, tag=name)
    return message


def _message(commit: str, ident: bytes) -> Message:
    """Parse ``Name <email> 1700000000 +0100`` (an author or tagger line)."""
    name, _, rest = ident.decode("utf-8", "replace").partition(" <")
    stamp = rest.rpartition("> ")[2].split()
    if len(stamp) != 2 or not stamp[0].isdigit():
        return Message(commit, name, "", 0, commit)
    sign = -1 if stamp[1].startswith("-") else 1
    hours, minutes = int(stamp[1][1:3] or 0), int(stamp[1][3:5] or 0)
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    date = datetime.fromtimestamp(int(stamp[0]), zone).isoformat()
    return Message(commit, name, date, int(stamp[0]), commit)


def staged_items(cwd: Optional[str] = None) -> Iterator[Item]:
    """The index as the next commit will record it (added, copied, modified and renamed
    files): the names it adds, then each staged blob."""
    git.require_version()
    staged = git.staged_blobs(cwd)
    root = git.toplevel(cwd or os.getcwd()) or cwd or os.getcwd()

    def shown(rel: str) -> str:
        # Paths relative to the working directory, as for files on disk, so a baseline made
        # by `scan` matches `scan --staged` run from a subdirectory too.
        return display_path(os.path.join(root, rel))

    yield from (Name(path, shown) for _, path in staged)  # git stores names too
    # Shown relative to the working directory, as files on disk are; git's own path is the
    # root-relative one.
    wanted = [(blob, origin_of(shown(path), printable(path)), path) for blob, path in staged]
    yield from cat_inputs(wanted, _staged_missing, cwd)


def _staged_missing(origin: Origin, path: object) -> Problem:
    return Problem(str(path), "staged content missing or unreadable")


def commit_msg_items(path: str) -> Iterator[Item]:
    """The message file of the commit being made, every byte of it.

    Which lines git keeps depends on a cleanup mode the commit-msg hook cannot see: ``-F`` and
    ``--cleanup=whitespace`` keep comment lines and everything below a scissors line, so both
    are scanned (a ``git commit -v`` diff below the scissors line is scanned too).
    """
    data, why = read_message_file(path)
    yield Problem(path, why) if why is not None else Input(Origin(None), data, about=path)


def read_message_file(path: str) -> Tuple[bytes, Optional[str]]:
    """(contents, None), or (b"", why it cannot be scanned): a directory, a device, a FIFO with
    no writer (readfile.py); a pipe with a writer (``--commit-msg <(cmd)``) is read to its end."""
    try:
        return read_whole(path), None
    except OSError as exc:
        return b"", reason(exc)
