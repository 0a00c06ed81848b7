"""The only module that runs git. Small functions over NUL-separated output.

Every call isolates git from the caller's environment: a hook runs with ``GIT_INDEX_FILE``,
``GIT_DIR`` and friends set for the *user's* repository (pre-commit issue #300 taught this), and
we must not let them point our queries elsewhere unless we mean to.
"""

from __future__ import annotations

import os
import subprocess
import threading
from contextlib import contextmanager
from typing import (
    IO,
    Any,
    Collection,
    Dict,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

from .errors import FatalError

MIN_GIT = (2, 30)
_LEAKY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
)


def git_env(keep_index: bool = False) -> Dict[str, str]:
    """The environment for git: the caller's, minus variables that would redirect it.

    ``keep_index`` keeps ``GIT_INDEX_FILE``: during ``git commit -a`` or ``git commit FILE`` the
    hook must read the temporary index git is about to commit, not ``.git/index``.
    """
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_ENV}
    if keep_index and "GIT_INDEX_FILE" in os.environ:
        env["GIT_INDEX_FILE"] = os.path.abspath(os.environ["GIT_INDEX_FILE"])
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def run(
    args: Sequence[str], cwd: Optional[str] = None, keep_index: bool = False, check: bool = True
) -> bytes:
    """Run ``git ARGS`` and return stdout; a failure is fatal with git's own one-line reason."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=git_env(keep_index),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise FatalError("git is not installed or not on PATH") from exc
    if check and proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FatalError(f"git {args[0]} failed: {reason[-1] if reason else proc.returncode}")
    return proc.stdout


def zsplit(out: bytes) -> List[str]:
    """Split ``-z`` output into paths, keeping undecodable bytes (surrogateescape)."""
    return [part.decode("utf-8", "surrogateescape") for part in out.split(b"\0") if part]


def toplevel(path: str) -> Optional[str]:
    """The work tree root containing ``path``, or None outside a work tree (or git missing)."""
    try:
        out = run(["rev-parse", "--show-toplevel"], cwd=path, check=False)
    except FatalError:
        return None
    root = out.decode("utf-8", "surrogateescape").strip()
    return root or None


def tracked_files(root: str) -> List[str]:
    """Paths in the index, relative to ``root`` (posix). Gitlinks (submodules) are left out."""
    out = run(["ls-files", "-z", "--cached", "--stage"], cwd=root)
    paths = []
    for entry in zsplit(out):
        meta, _, path = entry.partition("\t")
        if not meta.startswith("160000"):
            paths.append(path)
    return paths


def excludes_file(root: Optional[str] = None) -> Optional[str]:
    """The user's global ignore file: ``core.excludesFile``, else git's XDG default."""
    out = run(["config", "--path", "core.excludesFile"], cwd=root, check=False)
    configured = out.decode("utf-8", "surrogateescape").strip()
    if configured:
        return os.path.expanduser(configured)
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(xdg, "git", "ignore")


def git_dir(root: str) -> str:
    """The repository's git directory (``.git`` may be a file in worktrees and submodules)."""
    out = run(["rev-parse", "--absolute-git-dir"], cwd=root)
    return out.decode("utf-8", "surrogateescape").strip()


def version() -> tuple:
    """git's version as a tuple of ints; fatal when git is missing."""
    out = run(["version"]).decode("ascii", "replace")
    digits = out.split()[2].split(".")[:3] if len(out.split()) > 2 else []
    return tuple(int(d) for d in digits if d.isdigit())


# --- git objects: the staged index, ranges and history (issue 3) ---------------------------------

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # `git hash-object -t tree /dev/null`
BATCH_FORMAT = "%(objectname) %(objecttype) %(objectsize)"
_NAMED_BATCH = BATCH_FORMAT + " %(rest)"  # rest = rev-list's path; it would split names at spaces
GITLINK = "160000"  # a submodule's commit in the index: content lives in another repository
_STAGED_DIFF = "diff --cached --raw -z --no-renames --no-abbrev --no-relative --diff-filter=ACMR"
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


def require_version(minimum: Tuple[int, ...] = MIN_GIT) -> Tuple[int, ...]:
    """Git scans need modern plumbing; say so in one line instead of failing obscurely later."""
    try:
        found = version()
    except FatalError as exc:
        raise FatalError(f"{exc}; git scans need git {_dotted(minimum)} or newer") from exc
    if found < minimum:
        raise FatalError(f"git {_dotted(found)} is too old; git scans need {_dotted(minimum)}")
    return found


def _dotted(numbers: Tuple[int, ...]) -> str:
    return ".".join(str(n) for n in numbers)


class Running(NamedTuple):
    proc: subprocess.Popen[bytes]
    errors: IO[bytes]  # stderr, in a file: a pipe could fill up and stall git mid-stream


def spawn(
    args: Sequence[str], cwd: Optional[str] = None, stdin: Any = subprocess.DEVNULL
) -> Running:
    """Start a long-running git whose stdout we stream."""
    import tempfile  # deferred: only streaming git commands need it (~7 ms of start-up)

    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _finish, after git exits)
    env = git_env(keep_index=True)
    env["GIT_NO_LAZY_FETCH"] = "1"  # a partial clone's missing blobs are an error, not a download
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=errors,
            bufsize=1 << 20,
        )
    except FileNotFoundError as exc:
        errors.close()
        raise FatalError("git is not installed or not on PATH") from exc
    return Running(proc, errors)


def _finish(running: Running, what: str, failed: bool) -> None:
    """Reap a git; a non-zero exit after a complete read is fatal, with git's last line."""
    if failed:
        running.proc.kill()
    code = running.proc.wait()
    running.errors.seek(0)
    lines = running.errors.read().decode("utf-8", "replace").strip().splitlines()
    running.errors.close()
    if code != 0 and not failed:
        raise FatalError(f"git {what} failed: {lines[-1] if lines else code}")


def object_passes(found: Tuple[int, ...]) -> List[List[str]]:
    """``rev-list`` filters that together list every commit, annotated tag and blob once.

    From git 2.32 two passes keep trees (whose bytes are never a leak) out of the pipe: commits
    and tags first (``tree:0`` walks no trees), then blobs alone. Older gits get one unfiltered
    pass and the reader skips the trees.
    """
    if found < (2, 32):
        return [[]]
    return [["--filter=tree:0"], ["--filter=object:type=blob", "--filter-provided-objects"]]


@contextmanager
def object_stream(
    revs: Sequence[str], filters: Sequence[str] = (), cwd: Optional[str] = None
) -> Iterator[IO[bytes]]:
    """``rev-list --objects REVS | cat-file --batch``: reachable objects, each once, with paths.

    One pipe between two gits, no Python in between, so the walk and the reads overlap; each
    blob header ends with the path rev-list first saw it at. Objects a partial clone lacks come
    through as ``?<id>`` (reported missing) instead of being downloaded.
    """
    listing = spawn(["rev-list", "--objects", "--missing=print", *filters, *revs], cwd)
    batch = spawn(["cat-file", f"--batch={_NAMED_BATCH}"], cwd, stdin=listing.proc.stdout)
    assert listing.proc.stdout is not None and batch.proc.stdout is not None
    listing.proc.stdout.close()  # cat-file alone reads it, so rev-list sees EPIPE if it dies
    failed = True
    try:
        yield batch.proc.stdout
        failed = False
    finally:
        batch.proc.stdout.close()
        _finish(batch, "cat-file", failed)
        _finish(listing, "rev-list", failed)


@contextmanager
def cat_objects(names: Sequence[str], cwd: Optional[str] = None) -> Iterator[IO[bytes]]:
    """``cat-file --batch`` over ``names``, fed from a thread so neither pipe can deadlock."""
    running = spawn(["cat-file", f"--batch={BATCH_FORMAT}"], cwd, stdin=subprocess.PIPE)
    stdin, stdout = running.proc.stdin, running.proc.stdout
    assert stdin is not None and stdout is not None
    feeder = threading.Thread(target=_feed, args=(stdin, names), daemon=True)
    feeder.start()
    failed = True
    try:
        yield stdout
        failed = False
    finally:
        stdout.close()
        _finish(running, "cat-file", failed)
        feeder.join()


def _feed(stdin: IO[bytes], names: Sequence[str]) -> None:
    try:
        for name in names:
            stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        stdin.close()
    except OSError:  # cat-file went away; the reader reports why
        pass


def staged_blobs(cwd: Optional[str] = None) -> List[Tuple[str, str]]:
    """(blob, path) for files the next commit adds or changes, read from the index git commits.

    ``diff --cached`` needs no HEAD (before the first commit it compares with the empty tree);
    ``--no-renames`` turns a rename into an add, so the new path is scanned; gitlinks are left out.
    """
    out = run(_STAGED_DIFF.split(), cwd=cwd, keep_index=True)
    fields = out.split(b"\0")
    pairs = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        parts = meta.split()
        if len(parts) >= 4 and parts[1] != GITLINK.encode():
            pairs.append((parts[3].decode("ascii"), path.decode("utf-8", "surrogateescape")))
    return pairs


def stash_commits(cwd: Optional[str] = None) -> List[str]:
    """Every stash entry, not only the newest: older ones live only in ``refs/stash``'s reflog."""
    if not run(["rev-parse", "--verify", "--quiet", "refs/stash"], cwd=cwd, check=False):
        return []
    out = run(["log", "-g", "--format=%H", "refs/stash", "--"], cwd=cwd)
    return out.decode("ascii").split()


def commit_exists(rev: str, cwd: Optional[str] = None) -> bool:
    out = run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=cwd, check=False)
    return bool(out.strip())


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
        _finish(running, "log", failed)


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
