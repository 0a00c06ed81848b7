"""Where text comes from: files and directories on disk, and standard input.

Each source yields :class:`~.targets.FileTarget` records or a :class:`~.models.Problem` for one
bad input; nothing here raises for a single unreadable file, so a scan reports every problem at
once.
``read_findings`` is the one place that opens a file and hands its bytes to the engine.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from typing import (
    Dict,
    Iterator,
    List,
    Optional,
    Protocol,
    Sequence,
    Set,
    Tuple,
    Union,
)

from ..engine import scan as engine
from ..engine.rules import Ruleset
from ..models import Finding, Origin, Problem
from .readfile import NO_WRITER, READ_FLAGS, probe_fifo
from .targets import Excluder, FileTarget, Roots, display_path
from .walk import walk

STDIN = "-"


@dataclass(frozen=True)
class FileScan:
    findings: Tuple[Finding, ...]
    problem: Optional[Problem]
    size: int
    files: int = 1  # a worker sums up a batch's clean files in one record (parallel.py)


Target = Union[FileTarget, Problem]


def iter_targets(
    paths: Sequence[str], use_ignore: bool = True, exclude: Optional[Excluder] = None
) -> Iterator[Target]:
    """Files to scan under ``paths``: directories walked as git sees them, explicit files always.

    A file named explicitly is scanned even if ignored: pre-commit passes staged files by name,
    and ``git add -f`` makes an ignored file part of the commit. A file reached through two of
    ``paths`` (``a.py ./a.py``, ``dir dir/sub``) is scanned once; one path costs nothing extra.
    """
    targets = _targets(paths, use_ignore, exclude)
    return targets if len(paths) < 2 else _once(targets)


def _targets(
    paths: Sequence[str], use_ignore: bool, exclude: Optional[Excluder]
) -> Iterator[Target]:
    roots = Roots()
    for path in paths:
        if os.path.isdir(path):  # follows a link: a directory link named explicitly is walked
            if exclude is None or not exclude(os.path.abspath(path), True):
                yield from walk(path, use_ignore, exclude)
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
    link: List[Target] = []
    if os.path.islink(path):
        link.append(FileTarget(path, shown, link=True, rooted=rooted))
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno in _UNRESOLVED and link:
            return link  # dangling: its link text is all git commits
        if exc.errno != errno.ENOENT:  # e.g. a directory we may not enter
            return [Problem(shown, _os_reason(exc))]
        return [Problem(shown, "no such file or directory")]
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        return [*link, Problem(shown, "not a regular file (device or socket): not scanned")]
    target = FileTarget(path, shown, rooted=rooted)
    return [*link, target]  # a FIFO is read if something writes: ``<(cmd)``


# A symbolic link that leads nowhere: missing target, a loop, a file used as a directory.
_UNRESOLVED = frozenset({errno.ENOENT, errno.ELOOP, errno.ENOTDIR})


def read_findings(target: FileTarget, ruleset: Ruleset) -> FileScan:
    """Scan one file; any OS error becomes a Problem naming the file."""
    origin = target.origin()
    if target.link:
        return _scan_link_text(target.path, origin, ruleset)
    try:
        fd = os.open(target.path, READ_FLAGS)  # a FIFO may have replaced the walked file
        try:
            info = os.fstat(fd)
            whole = _read_small(fd, info)
            if whole is not None:
                return _scan_whole(whole, origin, ruleset)
            if stat.S_ISFIFO(info.st_mode):
                return _read_fifo(fd, origin, ruleset)
            with open(fd, "rb", closefd=False) as handle:  # the same open file: a FIFO once
                regular = stat.S_ISREG(info.st_mode)
                seekable = regular and hasattr(os, "pread")  # pread: not on Windows
                reread = (lambda offset, size: os.pread(fd, size, offset)) if seekable else None
                return _scan_handle(handle, origin, ruleset, ahead=regular, reread=reread)
        finally:
            os.close(fd)
    except OSError as exc:
        if exc.errno in _UNRESOLVED and os.path.islink(target.path):
            return _scan_link_text(target.path, origin, ruleset)
        return FileScan((), Problem(target.display, _os_reason(exc)), 0)


def _read_fifo(fd: int, origin: Origin, ruleset: Ruleset) -> FileScan:
    """A FIFO or pipe, read only while something writes to it (``scan <(cmd)``): with no writer
    it is a Problem, never a silent pass, and never a wait for a writer that may not come."""
    first = probe_fifo(fd)
    if first is None:
        return FileScan((), Problem(origin.path, NO_WRITER), 0)
    with open(fd, "rb", closefd=False) as handle:
        return _scan_handle(_Prepended(first, handle.read), origin, ruleset)


class _Prepended:
    """A stream with the bytes a probe took put back in front. The first read still returns
    ``size`` bytes in all: a short one would look like the end of the stream."""

    def __init__(self, first: bytes, read: engine.Reader) -> None:
        self.first, self.rest = first, read

    def read(self, size: int) -> bytes:
        head, self.first = self.first, b""
        return head + self.rest(size - len(head))


def _scan_link_text(path: str, origin: Origin, ruleset: Ruleset) -> FileScan:
    """A symbolic link scanned as git commits it: its target's text."""
    try:
        text = os.fsencode(os.readlink(path))
    except OSError as exc:
        return FileScan((), Problem(origin.path, _os_reason(exc)), 0)
    return _scan_whole(text, origin, ruleset)


def _read_small(fd: int, info: os.stat_result) -> Optional[bytes]:
    """A regular file under one chunk, whole, in a single ``read``; None for anything else.

    Most files of a tree are small, and per file ``os.open``/``fstat``/``read``/``close`` is
    four system calls where a buffered ``open().read()`` makes seven (isatty, a seek, and a
    second read to see the end): a large share of the reading cost of a scan of a source tree.
    """
    if not stat.S_ISREG(info.st_mode) or info.st_size >= engine.CHUNK_SIZE:
        return None
    data = os.read(fd, info.st_size + 1)  # a byte more than fstat said: has the file grown?
    if len(data) > info.st_size:
        os.lseek(fd, 0, os.SEEK_SET)  # it has: read it the streaming way from the start
        return None
    return data


def read_stdin(ruleset: Ruleset) -> FileScan:
    """Standard input; closed (``<&-``: Python then has no ``sys.stdin``) is a Problem."""
    if sys.stdin is None:
        return FileScan((), Problem(STDIN, "standard input is closed: not read"), 0)
    try:
        return _scan_handle(sys.stdin.buffer, Origin(STDIN), ruleset)
    except (OSError, ValueError) as exc:  # ValueError: the stream object itself was closed
        return FileScan((), Problem(STDIN, _os_reason(exc)), 0)


def _scan_whole(data: bytes, origin: Origin, ruleset: Ruleset) -> FileScan:
    undecided: List[engine.Undecided] = []
    findings = tuple(engine.scan_bytes(data, origin, ruleset, undecided))
    problem = undecided_problem(origin.path, undecided) if undecided else None
    return FileScan(findings, problem, len(data))


def undecided_problem(
    path: Optional[str], undecided: Sequence[engine.Undecided]
) -> Optional[Problem]:
    """One Problem for an input a custom rule ran out of time on, naming each such rule once.

    The scan goes on and keeps every finding; the input only counts as incomplete.
    """
    if not undecided:
        return None
    first: Dict[str, engine.Undecided] = {}
    for item in undecided:
        first.setdefault(item.rule_id, item)
    return Problem(path, "; ".join(map(str, first.values())))


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _scan_handle(
    handle: _Readable,
    origin: Origin,
    ruleset: Ruleset,
    ahead: bool = False,
    reread: engine.Rereader = None,
) -> FileScan:
    head = handle.read(engine.CHUNK_SIZE)
    if len(head) < engine.CHUNK_SIZE:  # the common case: the whole file in one read
        return _scan_whole(head, origin, ruleset)
    size = [len(head)]
    pending: List[bytes] = [head]
    from .readahead import read_ahead  # deferred: threads and queues, for big files only

    reading = read_ahead(handle.read, engine.CHUNK_SIZE) if ahead else nullcontext(handle.read)
    with reading as more:

        def read(n: int) -> bytes:
            if pending:
                return pending.pop()
            data = more(n)
            size[0] += len(data)
            return data

        undecided: List[engine.Undecided] = []
        findings = tuple(
            engine.scan_stream(read, origin, ruleset, reread=reread, undecided=undecided)
        )
    return FileScan(findings, undecided_problem(origin.path, undecided), size[0])


def _os_reason(exc: Union[OSError, ValueError]) -> str:
    return f"cannot read: {getattr(exc, 'strerror', None) or exc}".rstrip()
