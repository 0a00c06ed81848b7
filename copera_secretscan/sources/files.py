"""Where text comes from: files and directories on disk, and standard input.

:func:`iter_targets` yields :class:`~.targets.FileTarget` records (or a
:class:`~.models.Problem` for one bad input); :func:`read_target` opens one and yields the
:class:`~.models.Input` it holds. Nothing here raises for a single unreadable file, so a scan
reports every problem at once, and nothing here scans: the pipeline does.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from contextlib import nullcontext
from typing import (
    Iterator,
    List,
    Optional,
    Protocol,
    Sequence,
    Set,
    Union,
)

from ..models import CHUNK_SIZE, Input, Origin, Problem, Reader, problem_at
from .git import Asked
from .readfile import NO_WRITER, READ_FLAGS, probe_fifo
from .targets import Excluder, FileTarget, Roots, display_path
from .walk import walk

STDIN = "-"


Target = Union[FileTarget, Problem]
Item = Union[Input, Problem]


def iter_targets(
    paths: Sequence[str],
    use_ignore: bool = True,
    exclude: Optional[Excluder] = None,
    asked: Optional[Asked] = None,
) -> Iterator[Target]:
    """Files to scan under ``paths``: directories walked as git sees them, explicit files always.

    A file named explicitly is scanned even if ignored: pre-commit passes staged files by name,
    and ``git add -f`` makes an ignored file part of the commit. A file reached through two of
    ``paths`` (``a.py ./a.py``, ``dir dir/sub``) is scanned once; one path costs nothing extra.
    ``asked``: git's answer for one directory already (see :func:`.git.work_tree`).
    """
    targets = _targets(paths, use_ignore, exclude, asked)
    return targets if len(paths) < 2 else _once(targets)


def _targets(
    paths: Sequence[str], use_ignore: bool, exclude: Optional[Excluder], asked: Optional[Asked]
) -> Iterator[Target]:
    roots = Roots()
    for path in paths:
        if os.path.isdir(path):  # follows a link: a directory link named explicitly is walked
            if exclude is None or not exclude(os.path.abspath(path), True):
                yield from walk(path, use_ignore, exclude, asked)
        else:
            yield from _explicit(path, exclude, roots)


def _once(targets: Iterator[Target]) -> Iterator[Target]:
    """Each file and each problem once, paths compared made absolute as written."""
    seen: Set[object] = set()
    for item in targets:
        key = _identity(item)
        if key not in seen:
            seen.add(key)
            yield item


def _identity(item: Target) -> object:
    """What makes two targets the same. A ``..`` after a symbolic link leads somewhere else
    than the lexical form says, so a path that holds one is never merged with another."""
    if isinstance(item, Problem):
        return (item.path, item.message)
    parts = item.path.replace(os.altsep or os.sep, os.sep).split(os.sep)
    return item if os.pardir in parts else (os.path.abspath(item.path), item.link)


def _explicit(path: str, exclude: Optional[Excluder], roots: Roots) -> Sequence[Target]:
    """A named file; a named symbolic link twice: its text (what git commits, even when it
    leads nowhere) and, when it leads to something, what it leads to."""
    if exclude is not None and exclude(os.path.abspath(path), False):
        return []
    shown = display_path(path)
    rooted = roots.rooted(path, shown)
    target = FileTarget(path, shown, rooted=rooted)
    link: List[Target] = []
    if os.path.islink(path):
        link.append(FileTarget(path, shown, link=True, rooted=rooted))
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno in _UNRESOLVED and link:
            return link  # dangling: its link text is all git commits
        if exc.errno != errno.ENOENT:  # e.g. a directory we may not enter
            return [problem_at(target.origin(), read_failure(exc))]
        return [problem_at(target.origin(), "no such file or directory")]
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        unread = "not a regular file (device or socket): not scanned"
        return [*link, problem_at(target.origin(), unread)]
    return [*link, target]  # a FIFO is read if something writes: ``<(cmd)``


# A symbolic link that leads nowhere: missing target, a loop, a file used as a directory.
_UNRESOLVED = frozenset({errno.ENOENT, errno.ELOOP, errno.ENOTDIR})


def read_target(target: FileTarget) -> Iterator[Item]:
    """The one input ``target`` holds, or the Problem that stops it from being read.

    A generator, so that a big file stays open (and its read-ahead thread running) while the
    consumer reads the stream, and is closed when the consumer asks for the next item.
    """
    origin = target.origin()
    if target.link:
        yield _link_text(target.path, origin)
        return
    try:
        fd = os.open(target.path, READ_FLAGS)  # a FIFO may have replaced the walked file
    except OSError as exc:
        yield _unopened(target, origin, exc)
        return
    try:
        info = os.fstat(fd)
        whole = _read_small(fd, info)
        if whole is None:
            yield from _streamed(fd, info, origin)
    except OSError as exc:
        whole = None
        yield _unopened(target, origin, exc)
    finally:
        os.close(fd)
    if whole is not None:
        yield Input(origin, whole)


def _unopened(target: FileTarget, origin: Origin, exc: OSError) -> Item:
    """A file that could not be opened or read: a dangling link's text, else a Problem."""
    if exc.errno in _UNRESOLVED and os.path.islink(target.path):
        return _link_text(target.path, origin)
    return problem_at(origin, read_failure(exc))


def _streamed(fd: int, info: os.stat_result, origin: Origin) -> Iterator[Item]:
    """A file too big to read whole (or a FIFO), as a stream off the open descriptor."""
    if stat.S_ISFIFO(info.st_mode):
        yield from _fifo(fd, origin)
        return
    with open(fd, "rb", closefd=False) as handle:  # the same open file: a FIFO once
        yield from from_handle(handle, origin, ahead=stat.S_ISREG(info.st_mode))


def _fifo(fd: int, origin: Origin) -> Iterator[Item]:
    """A FIFO or pipe, read only while something writes to it (``scan <(cmd)``): with no writer
    it is a Problem, never a silent pass, and never a wait for a writer that may not come."""
    first = probe_fifo(fd)
    if first is None:
        yield problem_at(origin, NO_WRITER)
        return
    with open(fd, "rb", closefd=False) as handle:
        yield from from_handle(_Prepended(first, handle.read), origin)


class _Prepended:
    """A stream with the bytes a probe took put back in front. The first read still returns
    ``size`` bytes in all: a short one would look like the end of the stream."""

    def __init__(self, first: bytes, read: Reader) -> None:
        self.first, self.rest = first, read

    def read(self, size: int) -> bytes:
        head, self.first = self.first, b""
        return head + self.rest(size - len(head))


def _link_text(path: str, origin: Origin) -> Item:
    """A symbolic link as git commits it: its target's text."""
    try:
        return Input(origin, os.fsencode(os.readlink(path)))
    except OSError as exc:
        return problem_at(origin, read_failure(exc))


def _read_small(fd: int, info: os.stat_result) -> Optional[bytes]:
    """A regular file under one chunk, whole, in a single ``read``; None for anything else.

    Most files of a tree are small, and per file ``os.open``/``fstat``/``read``/``close`` is
    four system calls where a buffered ``open().read()`` makes seven (isatty, a seek, and a
    second read to see the end): a large share of the reading cost of a scan of a source tree.
    """
    if not stat.S_ISREG(info.st_mode) or info.st_size >= CHUNK_SIZE:
        return None
    data = os.read(fd, info.st_size + 1)  # a byte more than fstat said: has the file grown?
    if len(data) > info.st_size:
        os.lseek(fd, 0, os.SEEK_SET)  # it has: read it the streaming way from the start
        return None
    return data


def read_stdin() -> Iterator[Item]:
    """Standard input; closed (``<&-``: Python then has no ``sys.stdin``) is a Problem."""
    if sys.stdin is None:
        yield Problem(STDIN, "standard input is closed: not read")
        return
    yield from from_handle(sys.stdin.buffer, Origin(STDIN))


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def from_handle(handle: _Readable, origin: Origin, ahead: bool = False) -> Iterator[Item]:
    """What ``handle`` holds: whole when it ends within one chunk (the common case: one read),
    else a stream, read ahead on another thread when ``ahead`` (regular files only)."""
    try:
        head = handle.read(CHUNK_SIZE)
    except (OSError, ValueError) as exc:  # ValueError: the stream object itself was closed
        yield problem_at(origin, read_failure(exc))
        return
    if len(head) < CHUNK_SIZE:
        yield Input(origin, head)
        return
    from .readahead import read_ahead  # deferred: threads and queues, for big files only

    reading = read_ahead(handle.read, CHUNK_SIZE) if ahead else nullcontext(handle.read)
    with reading as more:
        pending = [head]

        def read(n: int) -> bytes:
            return pending.pop() if pending else more(n)

        yield Input(origin, read=read)


def read_failure(exc: Union[OSError, ValueError]) -> str:
    """What to say of an input that could not be read: ``cannot read: <reason>``."""
    return f"cannot read: {getattr(exc, 'strerror', None) or exc}".rstrip()
