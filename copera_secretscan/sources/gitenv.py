"""How every git we start is isolated from the caller's environment, and what git counts as a
repository on disk, with nothing but ``os`` (and ``stat``, which ``os`` loads anyway).

A hook runs with ``GIT_INDEX_FILE``, ``GIT_DIR`` and friends set for the *user's* repository
(pre-commit issue #300 taught this), and we must not let them point our queries elsewhere
unless we mean to. ``git.py`` and the lean hook check (``quick.py``) both start git this way,
and read the staged diff and ``cat-file --batch`` headers with the same functions here; this
module is separate so that the lean check does not import ``git.py``'s ``typing`` and friends
(``subprocess`` too loads only when git is run).

The walk asks :func:`holds_repository` for every directory that has a ``.git`` entry: the
answer is read from disk the way git reads it, because starting git for each would be too slow.
"""

from __future__ import annotations

import os
import stat

from .readfile import READ_FLAGS

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    import subprocess

LEAKY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
)
# What the next commit adds: added, copied, modified and renamed-to files, as raw diff lines.
STAGED_DIFF = "diff --cached --raw -z --no-renames --no-abbrev --no-relative --diff-filter=ACMR"
GITLINK = b"160000"  # a submodule's commit in the index: content lives in another repository


def git_env(keep_index: bool = False) -> dict[str, str]:
    """The environment for git: the caller's, minus variables that would redirect it.

    ``keep_index`` keeps ``GIT_INDEX_FILE``: during ``git commit -a`` or ``git commit FILE`` the
    hook must read the temporary index git is about to commit, not ``.git/index``.
    """
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV}
    if keep_index and "GIT_INDEX_FILE" in os.environ:
        env["GIT_INDEX_FILE"] = os.path.abspath(os.environ["GIT_INDEX_FILE"])
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    return env


def run_git(args: list[str], keep_index: bool = False) -> tuple[int, bytes]:
    """(exit code, stdout) of ``git ARGS`` in an isolated environment, stderr dropped; OSError
    when git cannot start. ``git.run`` says why git failed; this is for callers that only ask
    whether it did (the lean hook check hands every failure to the full scanner)."""
    import subprocess  # deferred: the hook's check of named files never starts git

    proc = subprocess.run(
        ["git", *args], env=git_env(keep_index), capture_output=True, stdin=subprocess.DEVNULL
    )
    return proc.returncode, proc.stdout


def start_git(args: list[str], keep_index: bool = False) -> subprocess.Popen[bytes]:
    """``git ARGS`` started with piped stdin and stdout, stderr dropped, in an isolated
    environment; OSError when git cannot start. The caller writes, reads, then kills it."""
    import subprocess  # deferred, as in run_git

    return subprocess.Popen(
        ["git", *args],
        env=git_env(keep_index),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def staged_entries(raw: bytes) -> list[tuple[bytes, bytes]] | None:
    """(blob id, path) of each entry of :data:`STAGED_DIFF`'s output, gitlinks left out (the
    submodule's own hooks guard its content); None when it is not the output we asked for."""
    fields = raw.split(b"\0")
    if fields[-1] or len(fields) % 2 == 0:
        return None
    entries = []
    for meta, path in zip(fields[0:-1:2], fields[1:-1:2]):
        parts = meta.split()
        if len(parts) < 4 or not meta.startswith(b":"):
            return None
        if parts[1] != GITLINK:
            entries.append((parts[3], path))
    return entries


def batch_header(line: bytes) -> tuple[str, str, int, str]:
    """(object id, type, size, rest) of one ``cat-file --batch`` header line; the type is
    ``"missing"`` (size 0, the id being what was asked for) when git has no such object."""
    oid, _, rest = line.rstrip(b"\n").partition(b" ")
    kind, _, rest = rest.partition(b" ")
    size, _, name = rest.partition(b" ")
    text = oid.decode("utf-8", "surrogateescape")
    if not size.isdigit():
        return text, "missing", 0, text
    return text, kind.decode("ascii", "replace"), int(size), name.decode("utf-8", "surrogateescape")


def work_tree_root(start: str, repository: bool = False) -> str | None:
    """The first directory from ``start`` up holding ``.git`` (a directory or a worktree file).

    With the variables above removed, git finds a work tree only this way, so None here means
    git would find none either, and nobody needs to start it to hear so. ``repository``: the
    first whose ``.git`` :func:`holds_repository`, passing debris by as git does.
    """
    here = os.path.abspath(start)
    while True:
        dot_git = os.path.join(here, ".git")
        if os.path.exists(dot_git) and (not repository or holds_repository(dot_git)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


# --- what git takes for a repository (setup.c, dir.c), read from disk -------------------------

SHA1_HEX = 40  # hex digits in a SHA-1 object id; SHA-256 repositories use 64
GITFILE_MAX = 1 << 20  # git reads no larger ``.git`` file
_GIT_SPACE = b" \t\n\r"  # git's isspace(): \v and \f are not spaces to git
_HEX = frozenset(b"0123456789abcdefABCDEF")


def holds_repository(dot_git: str, hex_digits: int = SHA1_HEX) -> bool:
    """Whether git takes the directory holding ``dot_git`` for a repository of its own.

    Git's test (dir.c ``is_nonbare_repository_dir``): ``.git`` is a gitfile naming a git
    directory, or is a git directory; a gitfile git cannot open or read counts too. Anything else
    (an empty ``.git/``, a lone ``HEAD``, a gitfile to nowhere) is debris that git walks past, and
    so must we: a directory wrongly taken for a repository is never scanned.
    """
    try:
        git_dir = named_git_dir(dot_git)
    except OSError:  # git assumes a repository it may not see into
        return True
    return git_dir is not None and is_git_directory(git_dir, hex_digits)


def named_git_dir(dot_git: str) -> str | None:
    """The git directory ``dot_git`` stands for: itself, or the one its gitfile names.

    None when a gitfile names nothing (setup.c ``read_gitfile_gently``: not ``gitdir: PATH``,
    or too large); OSError when it cannot be read.
    """
    try:
        info = os.stat(dot_git)
    except OSError:
        return None  # nothing there (a dangling link): git sees no repository either
    if not stat.S_ISREG(info.st_mode):
        return dot_git
    if info.st_size > GITFILE_MAX:
        return None
    data = _read(dot_git, info.st_size)
    if len(data) != info.st_size:
        raise OSError(f"short read: {dot_git}")
    body = data.rstrip(b"\r\n")
    if not data.startswith(b"gitdir: ") or len(body) < 9:
        return None
    target = os.fsdecode(body[8:].split(b"\0", 1)[0])  # git reads a C string: up to a NUL
    return os.path.join(os.path.dirname(dot_git), target)  # an absolute target stays as it is


def is_git_directory(path: str, hex_digits: int = SHA1_HEX) -> bool:
    """setup.c ``is_git_directory``: a valid ``HEAD``, and ``objects`` and ``refs`` that can be
    entered, in the common directory when a ``commondir`` file names one (a linked worktree)."""
    if not _valid_head(os.path.join(path, "HEAD"), hex_digits):
        return False
    common = common_dir(path)
    return common is not None and all(
        os.access(os.path.join(common, name), os.X_OK) for name in ("objects", "refs")
    )


def _valid_head(path: str, hex_digits: int) -> bool:
    """refs.c ``validate_headref``: a link into ``refs/``, ``ref: refs/...`` or an object id."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            return os.readlink(os.fsencode(path)).startswith(b"refs/")
        head = _read(path, 255).split(b"\0", 1)[0]
    except OSError:
        return False
    if head.startswith(b"ref:") and head[4:].lstrip(_GIT_SPACE).startswith(b"refs/"):
        return True
    return len(head) >= hex_digits and all(byte in _HEX for byte in head[:hex_digits])


def common_dir(git_dir: str) -> str | None:
    """Where ``objects`` and ``refs`` live; None where git gives up (``commondir`` unreadable
    or empty), which only makes us scan more than git would list."""
    path = os.path.join(git_dir, "commondir")
    if not os.path.exists(path):
        return git_dir
    try:
        data = _read(path, GITFILE_MAX)
    except OSError:
        return None
    if not data:
        return None
    return os.path.join(git_dir, os.fsdecode(data.rstrip(b"\r\n").split(b"\0", 1)[0]))


def _read(path: str, limit: int) -> bytes:
    fd = os.open(path, READ_FLAGS)  # a FIFO must not stall a walk
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)
