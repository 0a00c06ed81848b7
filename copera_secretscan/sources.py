"""Where text comes from: files and directories on disk, and standard input.

Each source yields :class:`FileTarget` records or a :class:`~.models.Problem` for one bad input;
nothing here raises for a single unreadable file, so a scan reports every problem at once.
``read_findings`` is the one place that opens a file and hands its bytes to the engine.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from typing import BinaryIO, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import engine
from .models import Finding, Origin, Problem, printable
from .rules import Ruleset

STDIN = "-"


@dataclass(frozen=True)
class FileTarget:
    path: str  # what to open
    display: str  # posix, relative to the working directory when under it


@dataclass(frozen=True)
class FileScan:
    findings: Tuple[Finding, ...]
    problem: Optional[Problem]
    size: int
    files: int = 1  # a worker sums up a batch's clean files in one record (parallel.py)


Excluder = Callable[[str, bool], bool]  # (absolute path, is_dir) -> excluded by configuration?


def display_path(path: str, cwd: Optional[str] = None) -> str:
    """Posix path relative to ``cwd`` when the file is under it, else absolute."""
    cwd = cwd or os.getcwd()
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, cwd) if absolute.startswith(cwd) else absolute
    if rel.startswith(os.pardir):
        rel = absolute
    return printable(rel.replace(os.sep, "/"))


def iter_targets(
    paths: Sequence[str], use_ignore: bool = True, exclude: Optional[Excluder] = None
) -> Iterator[Union[FileTarget, Problem]]:
    """Files to scan under ``paths``: directories walked as git sees them, explicit files always.

    A file named explicitly is scanned even if ignored: pre-commit passes staged files by name,
    and ``git add -f`` makes an ignored file part of the commit.
    """
    from .walk import walk  # deferred: walk imports this module (and pathspec when needed)

    for path in paths:
        if os.path.isdir(path):  # follows a link: a directory link named explicitly is walked
            if exclude is None or not exclude(os.path.abspath(path), True):
                yield from walk(path, use_ignore, exclude)
        else:
            item = _explicit(path, exclude)
            if item is not None:
                yield item


def _explicit(path: str, exclude: Optional[Excluder]) -> Optional[Union[FileTarget, Problem]]:
    if exclude is not None and exclude(os.path.abspath(path), False):
        return None
    shown = display_path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno != errno.ENOENT:  # e.g. a symbolic link loop, a directory we may not enter
            return Problem(shown, _os_reason(exc))
        missing = "broken symbolic link" if os.path.islink(path) else "no such file or directory"
        return Problem(shown, missing)
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        return Problem(shown, "not a regular file (device or socket): not scanned")
    return FileTarget(path, shown)  # a FIFO named explicitly is read: ``scan <(cmd)`` works


def read_findings(target: FileTarget, ruleset: Ruleset) -> FileScan:
    """Scan one file; any OS error becomes a Problem naming the file."""
    origin = Origin(target.display)
    try:
        fd = os.open(target.path, _READ_FLAGS)
        try:
            info = os.fstat(fd)
            whole = _read_small(fd, info)
            if whole is not None:
                return _scan_whole(whole, origin, ruleset)
            with open(fd, "rb", closefd=False) as handle:  # the same open file: a FIFO once
                regular = stat.S_ISREG(info.st_mode)
                seekable = regular and hasattr(os, "pread")  # pread: not on Windows
                reread = (lambda offset, size: os.pread(fd, size, offset)) if seekable else None
                return _scan_handle(handle, origin, ruleset, ahead=regular, reread=reread)
        finally:
            os.close(fd)
    except OSError as exc:
        return FileScan((), Problem(target.display, _os_reason(exc)), 0)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_small(fd: int, info: os.stat_result) -> Optional[bytes]:
    """A regular file under one chunk, whole, in a single ``read``; None for anything else.

    Most files of a tree are small, and per file ``os.open``/``fstat``/``read``/``close`` is
    four system calls where a buffered ``open().read()`` makes seven (isatty, a seek, and a
    second read to see the end): about half the reading cost of a scan of a source tree.
    """
    if not stat.S_ISREG(info.st_mode) or info.st_size >= engine.CHUNK_SIZE:
        return None
    data = os.read(fd, info.st_size + 1)  # a byte more than fstat said: has the file grown?
    if len(data) > info.st_size:
        os.lseek(fd, 0, os.SEEK_SET)  # it has: read it the streaming way from the start
        return None
    return data


def read_stdin(ruleset: Ruleset) -> FileScan:
    try:
        return _scan_handle(sys.stdin.buffer, Origin(STDIN), ruleset)
    except OSError as exc:
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


def _scan_handle(
    handle: BinaryIO,
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


def _os_reason(exc: OSError) -> str:
    return f"cannot read: {exc.strerror or exc}".rstrip()
