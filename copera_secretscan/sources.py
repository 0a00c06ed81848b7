"""Where text comes from: files and directories on disk, and standard input.

Each source yields :class:`FileTarget` records or a :class:`~.models.Problem` for one bad input;
nothing here raises for a single unreadable file, so a scan reports every problem at once.
``read_findings`` is the one place that opens a file and hands its bytes to the engine.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, List, Optional, Sequence, Tuple, Union

from . import engine
from .models import Finding, Origin, Problem
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


Excluder = Callable[[str], bool]  # absolute path -> excluded by configuration?


def display_path(path: str, cwd: Optional[str] = None) -> str:
    """Posix path relative to ``cwd`` when the file is under it, else absolute."""
    cwd = cwd or os.getcwd()
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, cwd) if absolute.startswith(cwd) else absolute
    if rel.startswith(os.pardir):
        rel = absolute
    return rel.replace(os.sep, "/")


def iter_targets(
    paths: Sequence[str], use_ignore: bool = True, exclude: Optional[Excluder] = None
) -> Iterator[Union[FileTarget, Problem]]:
    """Files to scan under ``paths``: explicit files always, directories walked."""
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            yield from _walk(path, exclude)
        elif exclude is not None and exclude(os.path.abspath(path)):
            continue
        elif os.path.lexists(path) and not os.path.exists(path):
            yield Problem(display_path(path), "broken symbolic link")
        elif not os.path.lexists(path):
            yield Problem(display_path(path), "no such file or directory")
        else:
            yield FileTarget(path, display_path(path))


def _walk(top: str, exclude: Optional[Excluder]) -> Iterator[Union[FileTarget, Problem]]:
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if exclude is not None and exclude(os.path.abspath(path)):
                continue
            try:
                mode = os.stat(path).st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode):
                yield FileTarget(path, display_path(path))


def read_findings(target: FileTarget, ruleset: Ruleset) -> FileScan:
    """Scan one file; any OS error becomes a Problem naming the file."""
    try:
        with open(target.path, "rb") as handle:
            return _scan_handle(handle, Origin(target.display), ruleset)
    except OSError as exc:
        return FileScan((), Problem(target.display, _os_reason(exc)), 0)


def read_stdin(ruleset: Ruleset) -> FileScan:
    try:
        return _scan_handle(sys.stdin.buffer, Origin(STDIN), ruleset)
    except OSError as exc:
        return FileScan((), Problem(STDIN, _os_reason(exc)), 0)


def _scan_handle(handle: BinaryIO, origin: Origin, ruleset: Ruleset) -> FileScan:
    head = handle.read(engine.CHUNK_SIZE)
    if len(head) < engine.CHUNK_SIZE:  # the common case: the whole file in one read
        return FileScan(tuple(engine.scan_bytes(head, origin, ruleset)), None, len(head))
    size = [len(head)]
    pending: List[bytes] = [head]

    def read(n: int) -> bytes:
        if pending:
            return pending.pop()
        data = handle.read(n)
        size[0] += len(data)
        return data

    findings = tuple(engine.scan_stream(read, origin, ruleset))
    return FileScan(findings, None, size[0])


def _os_reason(exc: OSError) -> str:
    return f"cannot read: {exc.strerror or exc}".rstrip()
