"""Streams of git objects for history, range and staged scans: ``rev-list | cat-file`` pipes,
``cat-file`` over blob ids, and ``log --raw`` for provenance. ``git.spawn`` starts each git."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import IO, Collection, Iterator, List, NamedTuple, Optional, Sequence

from .git import finish, run, spawn

BATCH_FORMAT = "%(objectname) %(objecttype) %(objectsize)"
_NAMED_BATCH = BATCH_FORMAT + " %(rest)"  # rest = rev-list's path; it would split names at spaces
_CHANGES_LOG = (
    "log --raw -m --root --no-renames --no-abbrev -z --reverse --topo-order --no-show-signature"
    " --no-relative --no-ext-diff --format=%x01%H%x00%an%x00%aI"
)


class Change(NamedTuple):
    """One path a commit set to a blob, as ``git log --raw`` reports it."""

    commit: str
    author: str
    date: str  # author date, ISO 8601
    blob: str
    path: str


@contextmanager
def object_stream(revs: Sequence[str], cwd: Optional[str] = None) -> Iterator[IO[bytes]]:
    """``rev-list --objects REVS | cat-file --batch``: every reachable commit, tag, tree and
    blob, each once, with paths.

    One pipe between two gits, no Python in between, so the walk and the reads overlap, and
    ``--buffer`` lets cat-file write in full blocks instead of flushing after every object (the
    cost of a history was more in those flushes than in git's reads: issue 14); each
    blob header ends with the path rev-list first saw it at (rev-list cuts a path at a newline,
    so the pipe stays in step). An object the store lacks or cannot read comes through as
    ``?<id>`` (a partial clone's is reported, not downloaded). Trees stay in the stream on
    purpose: ``--missing=print`` only reports objects the filters let through, so with
    ``--filter=object:type=blob`` a missing tree, and every file below it, vanished without a
    word. A corrupt tree, or a missing or corrupt commit or tag target, stops rev-list instead
    (``finish`` reports git's reason); a corrupt blob reaches cat-file, which calls it missing.
    """
    listing = spawn(["rev-list", "--objects", "--missing=print", *revs], cwd)
    batch = spawn(
        ["cat-file", "--buffer", f"--batch={_NAMED_BATCH}"], cwd, stdin=listing.proc.stdout
    )
    assert listing.proc.stdout is not None and batch.proc.stdout is not None
    listing.proc.stdout.close()  # cat-file alone reads it, so rev-list sees EPIPE if it dies
    failed = True
    try:
        yield batch.proc.stdout
        failed = False
    finally:
        batch.proc.stdout.close()
        finish(batch, "cat-file", failed)
        finish(listing, "rev-list", failed)


@contextmanager
def cat_blobs(ids: Sequence[str], cwd: Optional[str] = None) -> Iterator[IO[bytes]]:
    """``cat-file --batch`` over object ids, fed from a thread so neither pipe can deadlock.

    Ids only, never ``REV:path``: cat-file reads one name a line, and a path may hold a newline.
    """
    running = spawn(["cat-file", "--buffer", f"--batch={BATCH_FORMAT}"], cwd, fed=True)
    stdin, stdout = running.proc.stdin, running.proc.stdout
    assert stdin is not None and stdout is not None
    feeder = threading.Thread(target=_feed, args=(stdin, ids), daemon=True)
    feeder.start()
    failed = True
    try:
        yield stdout
        failed = False
    finally:
        stdout.close()
        finish(running, "cat-file", failed)
        feeder.join()


def _feed(stdin: IO[bytes], ids: Sequence[str]) -> None:
    try:
        for oid in ids:
            stdin.write(oid.encode("ascii") + b"\n")
        stdin.close()
    except OSError:  # cat-file went away; the reader reports why
        pass


def changes(
    revs: Sequence[str], blobs: Collection[str], cwd: Optional[str] = None
) -> Iterator[Change]:
    """Each (commit, path) that wrote one of ``blobs``, oldest first (parents before children).

    ``-m`` diffs a merge against each parent, so a token a merge resolution introduced is seen;
    the log is streamed, and ``--find-object`` narrows it when the blob list is short enough
    for a command line.
    """
    narrow = [f"--find-object={blob}" for blob in blobs] if len(blobs) <= 500 else []
    running = spawn([*_CHANGES_LOG.split(), *narrow, *revs, "--"], cwd)
    stdout = running.proc.stdout
    assert stdout is not None
    failed = True
    try:
        yield from _parse_changes(stdout, blobs)
        failed = False
    finally:
        stdout.close()
        finish(running, "log", failed)


def _parse_changes(stream: IO[bytes], blobs: Collection[str]) -> Iterator[Change]:
    pending = b""
    while True:
        block = stream.read(1 << 20)
        records = (pending + block).split(b"\x01")
        pending = records.pop() if block else b""
        for record in records:
            yield from _record_changes(record, blobs)
        if not block:
            return


def _record_changes(record: bytes, blobs: Collection[str]) -> Iterator[Change]:
    fields = record.split(b"\0")
    if len(fields) < 3:
        return
    commit, author, date = (f.decode("utf-8", "replace") for f in fields[:3])
    for meta, path in zip(fields[3::2], fields[4::2]):
        parts = meta.split()
        blob = parts[3].decode("ascii") if len(parts) >= 5 else ""
        if blob in blobs:
            yield Change(commit, author, date, blob, path.decode("utf-8", "surrogateescape"))


def path_log(revs: Sequence[str], path: str, cwd: Optional[str] = None) -> List[Change]:
    """Each commit among ``revs`` that changed ``path`` (a file, or anything under a directory),
    oldest first: the first one is where a name came into history. ``blob`` is left empty."""
    log = ["log", "--reverse", "--topo-order", "--full-history", "--format=%H%x00%an%x00%aI"]
    out = run([*log, *revs, "--", f":(literal){path}"], cwd=cwd)
    changes = []
    for line in out.decode("utf-8", "replace").splitlines():
        commit, author, date = [*line.split("\0"), "", ""][:3]
        changes.append(Change(commit, author, date, "", path))
    return changes
