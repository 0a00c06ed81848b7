"""Git objects as scan input: blobs from ``git cat-file --batch``, commit and tag messages, trees
(read, and reported when missing), the staged index and the message file of a commit being made.

Each object is scanned once; one that git cannot give is a problem, never a silent gap. A blob
up to ``engine.CHUNK_SIZE`` is read whole; a larger one is streamed through the engine window
by window straight off the pipe, so memory stays bounded whatever the blob size. Nothing here
knows about provenance: ``history.py`` turns blob findings into the commits that introduced
them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import IO, Dict, FrozenSet, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from .. import pipeline as scanner
from ..config.settings import Settings
from ..engine import names
from ..engine import scan as engine
from ..engine.rules import Ruleset
from ..errors import FatalError
from ..models import Finding, Origin, Problem, ScanResult, origin_of, printable
from ..pipeline import Progress
from . import files as sources
from . import git, gitenv, gitobjects
from .readfile import read_whole, reason

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


@dataclass
class ObjectScan:
    """What one pass over an object stream found, before provenance is resolved."""

    blobs: Dict[str, List[Finding]] = field(default_factory=dict)  # blob id -> its findings
    messages: List[Tuple[Message, Finding]] = field(default_factory=list)
    problems: List[Problem] = field(default_factory=list)
    names: Dict[names.NameKey, Finding] = field(default_factory=dict)  # tokens in tree entries
    boundary: FrozenSet[str] = frozenset()  # a shallow clone's last commits: history stops there
    cut_short: bool = False  # a commit of the boundary was reached: older history is missing
    files: int = 0  # unique blobs read
    bytes: int = 0


def read_header(stream: IO[bytes]) -> Optional[Header]:
    """The next header, or None at the end of the stream."""
    line = stream.readline()
    return Header(*gitenv.batch_header(line)) if line else None


def skip_object(stream: IO[bytes], header: Optional[Header]) -> None:
    """Consume an object we do not scan (a missing one has no content)."""
    if header is not None and header.kind != "missing":
        stream.read(header.size + 1)


def scan_blob(
    stream: IO[bytes],
    size: int,
    origin: Origin,
    ruleset: Ruleset,
    problems: Optional[List[Problem]] = None,
) -> List[Finding]:
    """Findings in the next ``size`` bytes of ``stream``; consumes the blob and its newline.

    With ``problems``, a custom rule that runs out of time becomes one there, and the scan
    goes on (without, it is raised).
    """
    undecided: Optional[List[engine.Undecided]] = None if problems is None else []
    if size <= engine.CHUNK_SIZE:
        data = stream.read(size)
        _expect(len(data) == size, origin.path)
        findings = engine.scan_bytes(data, origin, ruleset, undecided)
    else:
        read = _bounded(stream, size, origin)
        findings = list(engine.scan_stream(read, origin, ruleset, undecided=undecided))
    _expect(stream.read(1) == b"\n", origin.path)
    _add_undecided(problems, origin.path, undecided)
    return findings


def _add_undecided(
    problems: Optional[List[Problem]],
    path: Optional[str],
    undecided: Optional[List[engine.Undecided]],
    label: str = "",
) -> None:
    """The Problem for what a custom rule left undecided, if any, ``label`` before its text."""
    problem = sources.undecided_problem(path, undecided or ())
    if problems is not None and problem is not None:
        problems.append(replace(problem, message=label + problem.message))


def read_object(stream: IO[bytes], header: Header) -> bytes:
    """The whole of a tree, commit or tag (never a blob: that may be huge), checked to be all
    there, so a stream cut short is an error rather than a shorter object."""
    data = stream.read(header.size + 1)
    _expect(len(data) == header.size + 1 and data.endswith(b"\n"), header.name or header.oid)
    return data[:-1]


def _bounded(stream: IO[bytes], size: int, origin: Origin) -> engine.Reader:
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


def read_blobs(
    blobs: Sequence[Tuple[str, Origin]],
    ruleset: Ruleset,
    cwd: Optional[str] = None,
    problems: Optional[List[Problem]] = None,
) -> Iterator[Tuple[Optional[int], List[Finding]]]:
    """(size, findings) for each (blob id, origin), in order; size None when git lacks it."""
    with gitobjects.cat_blobs([oid for oid, _ in blobs], cwd) as stream:
        for _, origin in blobs:
            header = read_header(stream)
            if header is None or header.kind != "blob":
                skip_object(stream, header)
                yield None, []
                continue
            yield header.size, scan_blob(stream, header.size, origin, ruleset, problems)


def scan_object_stream(
    stream: IO[bytes],
    ruleset: Ruleset,
    progress: Optional[Progress] = None,
    scan: Optional[ObjectScan] = None,
) -> ObjectScan:
    """Scan every object of a ``gitobjects.object_stream`` into ``scan``: each blob, each commit
    and tag message, each tree; an object git could not give us is a problem, never a skip."""
    scan = ObjectScan() if scan is None else scan
    header = read_header(stream)
    while header is not None:
        if header.kind == "blob":
            _add_blob(stream, header, ruleset, scan)
        elif header.kind == "tree":
            scan_tree(header, read_object(stream, header), ruleset, scan)
        elif header.kind in ("commit", "tag"):
            scan.cut_short = scan.cut_short or header.oid in scan.boundary
            data = read_object(stream, header)
            scan.messages.extend(scan_message(header, data, ruleset, scan.problems))
            scan.bytes += header.size
        else:
            scan.problems.append(_unread(stream, header))
        if progress is not None:
            progress(scan.files, scan.bytes)
        header = read_header(stream)
    return scan


def _add_blob(stream: IO[bytes], header: Header, ruleset: Ruleset, scan: ObjectScan) -> None:
    origin = Origin(header.name or header.oid)
    findings = scan_blob(stream, header.size, origin, ruleset, scan.problems)
    if findings:
        scan.blobs[header.oid] = findings
    scan.files += 1
    scan.bytes += header.size


def scan_tree(header: Header, data: bytes, ruleset: Ruleset, scan: ObjectScan) -> None:
    """Tokens in the names a tree lists (entries ``<mode> <name>\\0<raw id>``): git stores
    names too. A finding's path is the entry's path, with rev-list's path of the tree in front;
    history.py finds the commit that introduced it."""
    if not engine.might_contain(data, ruleset):
        return  # nearly every tree: one search
    anchors = names.anchors(ruleset)
    id_size = len(header.oid) // 2
    at = 0
    while at < len(data):
        space = data.find(b" ", at)
        end = data.find(b"\0", space + 1)
        if space < 0 or end < 0:
            return  # not a tree entry: git refuses such a tree before we see it
        name = data[space + 1 : end].decode("utf-8", "surrogateescape")
        if any(anchor in name for anchor in anchors):
            path = f"{header.name}/{name}" if header.name else name
            names.collect(names.name_findings(path, ruleset), scan.names)
        at = end + 1 + id_size


def _unread(stream: IO[bytes], header: Header) -> Problem:
    """An object cat-file could not give (missing, corrupt, left out of a partial clone), or
    of a type nothing here knows: either way its bytes went unscanned."""
    if header.kind == "missing":
        return Problem(header.name.lstrip("?"), MISSING)
    skip_object(stream, header)
    reason = f"unexpected object type {header.kind!r}; not scanned"
    return Problem(header.name or header.oid, reason)


def scan_message(
    header: Header, data: bytes, ruleset: Ruleset, problems: Optional[List[Problem]] = None
) -> List[Tuple[Message, Finding]]:
    """Findings in a commit or tag message; ``line`` counts from the message's first line."""
    head, _, body = data.partition(b"\n\n")
    if not engine.might_contain(body, ruleset):
        return []
    fields = dict(line.partition(b" ")[::2] for line in reversed(head.split(b"\n")))
    message = _message(header.oid, fields.get(b"author") or fields.get(b"tagger") or b"")
    if header.kind == "tag":  # report it at the tagged object, but as the tag's own message
        target = fields.get(b"object", b"").decode("ascii") or header.oid
        name = fields.get(b"tag", b"").decode("utf-8", "replace") or header.oid
        message = replace(message, commit=target, tag=name)
    undecided: Optional[List[engine.Undecided]] = None if problems is None else []
    found = engine.scan_bytes(body, Origin(None, message.commit), ruleset, undecided)
    _add_undecided(problems, None, undecided, f"message of {header.kind} {header.oid}: ")
    return [(message, finding) for finding in found]


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


def scan_staged(settings: Settings, progress: Optional[Progress] = None) -> ScanResult:
    """The index as the next commit will record it: added, copied, modified and renamed files."""
    started = time.perf_counter()
    git.require_version()
    ruleset = settings.ruleset()
    staged = git.staged_blobs()
    root = git.toplevel(os.getcwd()) or os.getcwd()
    # Shown relative to the working directory, as files on disk are; git's own path is the
    # root-relative one.
    blobs = [(blob, _staged_origin(root, path)) for blob, path in staged]
    findings: List[Finding] = _staged_names(staged, root, ruleset)
    problems: List[Problem] = []
    size = 0
    scanned = read_blobs(blobs, ruleset, problems=problems)  # a timed-out rule: a problem too
    try:
        for (_, path), (blob_size, found) in zip(staged, scanned):
            if blob_size is None:
                problems.append(Problem(path, "staged content missing or unreadable"))
                continue
            findings.extend(found)
            size += blob_size
            if progress is not None:
                progress(len(staged), size)
    except FatalError as exc:
        problems.append(salvage(exc, bool(findings)))
    elapsed = time.perf_counter() - started
    return scanner.finish(findings, problems, settings, len(staged), size, elapsed)


def _staged_origin(root: str, path: str) -> Origin:
    return origin_of(sources.display_path(os.path.join(root, path)), printable(path))


def _staged_names(staged: List[Tuple[str, str]], root: str, ruleset: Ruleset) -> List[Finding]:
    """Tokens in the names the commit adds (git paths are relative to the root, all stored)."""

    def shown(rel: str) -> str:
        return sources.display_path(os.path.join(root, rel))

    named: Dict[names.NameKey, Finding] = {}
    for _, path in staged:
        found = names.name_findings(path, ruleset, shown, rooted=printable(path))
        names.collect(found, named)
    return list(named.values())


def scan_commit_msg(path: str, settings: Settings) -> ScanResult:
    """The message file of the commit being made, every byte of it.

    Which lines git keeps depends on a cleanup mode the commit-msg hook cannot see: ``-F`` and
    ``--cleanup=whitespace`` keep comment lines and everything below a scissors line, so both
    are scanned (a ``git commit -v`` diff below the scissors line is scanned too).
    """
    started = time.perf_counter()
    data, reason = read_message_file(path)
    if reason is not None:
        problem = Problem(path, reason)
        return scanner.finish([], [problem], settings, 0, 0, time.perf_counter() - started)
    undecided: List[engine.Undecided] = []
    findings = engine.scan_bytes(data, Origin(None), settings.ruleset(), undecided)
    problems: List[Problem] = []
    _add_undecided(problems, path, undecided)
    elapsed = time.perf_counter() - started
    return scanner.finish(findings, problems, settings, 1, len(data), elapsed)


def read_message_file(path: str) -> Tuple[bytes, Optional[str]]:
    """(contents, None), or (b"", why it cannot be scanned): a directory, a device, a FIFO with
    no writer (readfile.py); a pipe with a writer (``--commit-msg <(cmd)``) is read to its end."""
    try:
        return read_whole(path), None
    except OSError as exc:
        return b"", reason(exc)
