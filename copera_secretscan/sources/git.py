"""The only module that runs git. Small functions over NUL-separated output; ``gitobjects``
streams objects through the gits that :func:`spawn` starts.

Every call isolates git from the caller's environment (:func:`.gitenv.git_env`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO, TYPE_CHECKING, Dict, FrozenSet, List, NamedTuple, Optional, Sequence, Tuple

from ..errors import FatalError
from .gitenv import (
    SHA1_HEX,
    STAGED_DIFF,
    common_dir,
    git_env,
    is_git_directory,
    named_git_dir,
    staged_entries,
    work_tree_root,
)

if TYPE_CHECKING:
    import subprocess

MIN_GIT = (2, 30)


def run(
    args: Sequence[str], cwd: Optional[str] = None, keep_index: bool = False, check: bool = True
) -> bytes:
    """Run ``git ARGS`` and return stdout; a failure is fatal with git's own one-line reason."""
    import subprocess  # deferred: a scan outside git starts no process and needs none of it

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
        if cwd is not None and not os.path.isdir(cwd):
            raise FatalError(f"cannot run git in {cwd}: no such directory") from exc
        raise FatalError("git is not installed or not on PATH") from exc
    except OSError as exc:  # a `git` on PATH that cannot be run: a directory, no x bit
        raise FatalError(f"cannot run git: {exc.strerror or exc}") from exc
    if check and proc.returncode != 0:
        raise GitFailed(args[0], proc.returncode, proc.stderr)
    return proc.stdout


class GitFailed(FatalError):
    """git ran and exited non-zero; callers that tell "no" from "cannot" read its words."""

    def __init__(self, command: str, code: int, stderr: bytes) -> None:
        self.code = code
        self.stderr = stderr
        self.why = reason(stderr, code)
        super().__init__(f"git {command} failed: {self.why}")


def reason(stderr: bytes, code: int) -> str:
    """git's own complaint: its ``fatal:`` and ``error:`` lines (up to four), else its first line.

    The last line is often a usage hint (``'git <command> [<revision>...] -- [<file>...]'``
    after "ambiguous argument"), which names no problem at all. For a damaged repository the
    first complaint says what broke ("inflate: data stream error") and only a later one which
    object ("loose object <id> ... is corrupt"), so all of them are kept, on one line.
    """
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    said = [
        line[len(prefix) :].strip()
        for line in lines
        for prefix in ("fatal:", "error:")
        if line.startswith(prefix)
    ]
    if said:
        return "; ".join(list(dict.fromkeys(said))[:4])
    return lines[0] if lines else f"exit status {code}"


def zsplit(out: bytes) -> List[str]:
    """Split ``-z`` output into paths, keeping undecodable bytes (surrogateescape)."""
    return [part.decode("utf-8", "surrogateescape") for part in out.split(b"\0") if part]


class NoAnswer(FatalError):
    """git could not say which work tree holds a path, though a ``.git`` sits above it: the
    directory is not a plain one, and what git tracks there is unknown."""

    def __init__(self, message: str, root: str) -> None:
        super().__init__(message)
        self.root = root  # the directory holding the ``.git`` that git could not use


class WorkTree(NamedTuple):
    root: str
    hex_digits: int  # in an object id: 40 (SHA-1) or 64 (SHA-256)


Asked = Tuple[str, Optional[WorkTree]]  # (absolute directory, git's answer for it)


# git's own words (LC_ALL=C) for "no repository here", as opposed to "cannot tell"
_NO_REPOSITORY = "not a git repository (or any"
# inside a git directory (``scan .git``), or in a work tree whose repository says core.bare
_NO_WORK_TREE = "this operation must be run in a work tree"
# A `.git` file naming no repository: git stops there, but from the directory above it is
# debris (dir.c walks into that directory), so the search for a work tree goes on above it.
_NOT_A_GITFILE = (
    "not a git repository: ",
    "invalid gitfile format: ",
    "no path in gitfile: ",
    "too large to be a .git file: ",
)


def toplevel(path: str) -> Optional[str]:
    """The work tree root containing ``path``, or None outside one (see :func:`work_tree`)."""
    found = work_tree(path)
    return found.root if found else None


def work_tree(path: str, asked: Optional[Asked] = None) -> Optional[WorkTree]:
    """The work tree holding ``path`` as git sees it, or None outside one.

    ``asked`` is an answer already given for one directory (the settings' lookup asks for the
    working directory): reused when ``path`` is that directory, so ``scan .`` asks git once.

    Outside any ``.git`` git is not started: that answer is certain, and scanning a plain
    directory then costs no process at all. Inside one, a git that cannot answer (missing,
    failing, refusing a repository of dubious ownership) raises :class:`NoAnswer`: taking the
    directory for a plain one would skip ignored files that git tracks, and call that clean.
    """
    cwd = os.path.abspath(path)
    if asked is not None and asked[0] == cwd:
        return asked[1]
    broken: Optional[NoAnswer] = None  # the first `.git` file git could not follow
    while True:
        root = work_tree_root(cwd)
        if root is None:
            break
        found, unusable = _ask_work_tree(cwd, root)
        if found is not None and not _holds(found.root, os.path.realpath(path)):
            raise NoAnswer(f"git names {found.root} as the work tree of {path}", root)
        if unusable is None:
            return found
        broken = broken or NoAnswer(
            f"git cannot use {os.path.join(root, '.git')}: {unusable}", root
        )
        if os.path.dirname(root) == root:
            break
        cwd = os.path.dirname(root)
    if broken is not None:  # a work tree whose repository is out of reach (a copied worktree)
        raise broken
    return None


def _ask_work_tree(cwd: str, root: str) -> Tuple[Optional[WorkTree], Optional[str]]:
    """(git's answer for ``cwd``, why the ``.git`` file at ``root`` cannot be followed, if so).

    Inside a repository such a file is debris, and the search goes on above it; with no
    repository above, it is a work tree whose repository is out of reach, never a plain one.
    """
    try:
        out = run(["rev-parse", "--show-object-format", "--show-toplevel"], cwd=cwd)
    except GitFailed as exc:
        if exc.why.startswith(_NOT_A_GITFILE):
            return None, exc.why
        if exc.why.startswith(_NO_REPOSITORY):
            return None, None
        if exc.why.startswith(_NO_WORK_TREE) and _in_git_dir(cwd, root):
            return None, None
        raise NoAnswer(f"{exc}{_git_advice(exc.stderr)}", root) from exc
    except FatalError as exc:  # git missing, or not runnable
        raise NoAnswer(str(exc), root) from exc
    kind, _, top = _line(out).partition("\n")  # a root may end in a space: no strip()
    if not os.path.isabs(top):
        raise NoAnswer(f"git rev-parse named no work tree for {cwd}", root)
    return WorkTree(top, 64 if kind == "sha256" else SHA1_HEX), None


def _holds(root: str, path: str) -> bool:
    rel = os.path.relpath(path, root)
    return rel != os.pardir and not rel.startswith(os.pardir + os.sep)


def _in_git_dir(cwd: str, root: str) -> bool:
    """Whether ``cwd`` is inside a git directory below ``root``: files there are no work tree's."""
    here = cwd
    while here != root and os.path.dirname(here) != here:
        if is_git_directory(here):
            return True
        here = os.path.dirname(here)
    return False


def _git_advice(stderr: bytes) -> str:
    """git's own remedy, when it offers one (``safe.directory`` for a repository it distrusts)."""
    for line in stderr.decode("utf-8", "replace").splitlines():
        if line.strip().startswith("git config --global --add safe.directory"):
            return f"; to trust it: {line.strip()}"
    return ""


def tracked_files(root: str) -> List[str]:
    """Paths in the index, relative to ``root`` (posix). Gitlinks (submodules) are left out."""
    out = run(["ls-files", "-z", "--cached", "--stage"], cwd=root)
    paths = []
    for entry in zsplit(out):
        meta, _, path = entry.partition("\t")
        if not meta.startswith("160000"):
            paths.append(path)
    return paths


def untracked_files(root: str) -> List[str]:
    """Files ``git add -A`` would add: neither tracked nor ignored, relative to ``root``.

    ``-z`` keeps names with newlines and undecodable bytes whole (:func:`zsplit`).
    """
    return zsplit(run(["ls-files", "-z", "--others", "--exclude-standard"], cwd=root))


def excludes_file(root: Optional[str] = None) -> Optional[str]:
    """The user's global ignore file as git finds it, or None when git reads none.

    ``core.excludesFile`` (relative to the work tree root, where git reads it; set but empty:
    no file at all), else git's XDG default. git says "not set" with exit status 1 and nothing
    on stderr; any other failure is fatal, since a guess could ignore what git does not.
    """
    try:
        out = run(["config", "--path", "core.excludesFile"], cwd=root)
    except GitFailed as exc:
        if exc.code != 1 or exc.stderr.strip():
            raise
    else:
        configured = _line(out)
        return os.path.join(root or os.getcwd(), configured) if configured else None
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        return os.path.join(xdg, "git", "ignore")
    home = os.environ.get("HOME")  # git's rule: no HOME, no default file
    return os.path.join(home, ".config", "git", "ignore") if home else None


def info_exclude(root: str) -> str:
    """The repository's ``info/exclude`` for the work tree at ``root``, found on disk as git
    finds it (in the common directory, which a linked worktree's ``commondir`` names), so that
    no git starts just to name it; git is asked only when ``root/.git`` is no repository of
    its own (a work tree that ``core.worktree`` points at)."""
    try:
        git_dir = named_git_dir(os.path.join(root, ".git"))
    except OSError:
        git_dir = None
    common = common_dir(git_dir) if git_dir and is_git_directory(git_dir) else None
    return os.path.join(common, "info", "exclude") if common else git_path("info/exclude", root)


def git_path(name: str, cwd: str) -> str:
    """Where git keeps ``name`` of its directory (``info/exclude``, ``shallow``); in a linked
    worktree some live in the common directory, so git is asked rather than guessed."""
    path = _line(run(["rev-parse", "--git-path", name], cwd=cwd))
    if not path:
        raise FatalError(f"git rev-parse named no path for {name}")
    return os.path.join(cwd, path)


def _line(out: bytes) -> str:
    """git's one-line answer without its newline, and nothing else stripped: a path may end
    in a space."""
    text = out.decode("utf-8", "surrogateescape")
    return text[:-1] if text.endswith("\n") else text


def version() -> tuple:
    """git's version as a tuple of ints; fatal when git is missing."""
    out = run(["version"]).decode("ascii", "replace")
    digits = out.split()[2].split(".")[:3] if len(out.split()) > 2 else []
    return tuple(int(d) for d in digits if d.isdigit())


# --- the index, revisions and long-running gits for ``gitobjects`` ------------------------------


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


def revision(value: str, what: str = "revision") -> str:
    """``value`` as a revision for git, never as an option: a ``-`` in front would change what
    git does, not what it reads."""
    if not value.strip() or value.startswith("-"):
        raise FatalError(f"not a {what}: {value!r}")
    return value


def staged_blobs(cwd: Optional[str] = None) -> List[Tuple[str, str]]:
    """(blob, path) for files the next commit adds or changes, read from the index git commits.

    ``diff --cached`` needs no HEAD (before the first commit it compares with the empty tree);
    ``--no-renames`` turns a rename into an add, so the new path is scanned; gitlinks are left out.
    """
    try:
        out = run(STAGED_DIFF.split(), cwd=cwd, keep_index=True)
    except FatalError:
        # outside a repository `git diff` turns into `--no-index` and only complains about
        # `--cached`; rev-parse names the real problem ("not a git repository")
        run(["rev-parse", "--git-dir"], cwd=cwd)
        raise
    entries = staged_entries(out)
    if entries is None:
        raise FatalError("git diff --cached: output not in the raw format asked for")
    return [(oid.decode("ascii"), path.decode("utf-8", "surrogateescape")) for oid, path in entries]


def head_blobs(cwd: Optional[str] = None) -> Dict[str, str]:
    """path -> blob id for every file at HEAD (root-relative); empty when there is no HEAD.

    ``ls-tree -z`` keeps a path with a newline whole, where naming ``HEAD:<path>`` to
    ``cat-file --batch``, which reads one name a line, would split it and shift every answer.
    """
    if not commit_exists("HEAD", cwd):
        return {}
    out = run(["ls-tree", "-r", "-z", "--full-tree", "HEAD"], cwd=cwd)
    blobs = {}
    for entry in zsplit(out):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            blobs[path] = parts[2]
    return blobs


def stash_commits(cwd: Optional[str] = None) -> List[str]:
    """Every stash entry, not only the newest: older ones live only in ``refs/stash``'s reflog."""
    if not _resolve("refs/stash", cwd):
        return []
    out = run(["log", "-g", "--format=%H", "refs/stash", "--"], cwd=cwd)
    return out.decode("ascii").split()


def stash_entries(cwd: Optional[str] = None) -> List[List[str]]:
    """Each stash entry's commit and its parents (base, index, untracked), newest first: entry
    N is ``stash@{N}``. One ``log -g`` for all of them, as :func:`stash_commits`."""
    if not _resolve("refs/stash", cwd):
        return []
    out = run(["log", "-g", "--format=%H %P", "refs/stash", "--"], cwd=cwd)
    return [line.split() for line in out.decode("ascii").splitlines() if line]


def refs_containing(commits: Sequence[str], cwd: Optional[str] = None) -> List[str]:
    """The full names of the refs that reach any of ``commits`` (``--contains`` ORs them):
    one call, however many commits carry a token."""
    contains = [f"--contains={commit}" for commit in commits]
    out = run(["for-each-ref", "--format=%(refname)", *contains], cwd=cwd)
    return out.decode("utf-8", "surrogateescape").splitlines()


def shallow_commits(cwd: str) -> FrozenSet[str]:
    """The commits a shallow clone's history stops at; empty for a complete repository."""
    path = git_path("shallow", cwd)
    try:
        with open(path, "rb") as handle:
            return frozenset(handle.read().decode("ascii", "replace").split())
    except FileNotFoundError:
        return frozenset()
    except OSError as exc:
        raise FatalError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def rev_list(revs: Sequence[str], cwd: Optional[str] = None) -> List[str]:
    """The commits ``revs`` select, newest first."""
    return run(["rev-list", *revs, "--"], cwd=cwd).decode("ascii").split()


def unshallow(remote: str, cwd: Optional[str] = None) -> None:
    """Fetch the history a shallow clone left out (what ``fetch-depth: 0`` would have)."""
    run(["fetch", "--quiet", "--unshallow", remote], cwd=cwd)


def fetch_branch(remote: str, branch: str, cwd: Optional[str] = None) -> None:
    """Fetch ``branch`` of ``remote`` into its remote-tracking ref, which a CI checkout that
    fetched only the branch it builds lacks."""
    run(
        ["fetch", "--quiet", remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"],
        cwd=cwd,
    )


def commit_exists(rev: str, cwd: Optional[str] = None) -> bool:
    return bool(_resolve(f"{rev}^{{commit}}", cwd))


def _resolve(rev: str, cwd: Optional[str]) -> bytes:
    """``rev``'s object id, or b"" when nothing has that name (git exits 1 and says nothing).

    Any other failure (a repository git refuses, a broken ref it warns about) is fatal: read as
    "absent", it would silently drop the stashes from a history scan.
    """
    try:
        return run(["rev-parse", "--verify", "--quiet", rev], cwd=cwd).strip()
    except GitFailed as exc:
        if exc.code == 1 and not exc.stderr.strip():
            return b""
        raise


class Running(NamedTuple):
    proc: subprocess.Popen[bytes]
    errors: IO[bytes]  # stderr, in a file: a pipe could fill up and stall git mid-stream


def spawn(
    args: Sequence[str],
    cwd: Optional[str] = None,
    stdin: Optional[IO[bytes]] = None,
    fed: bool = False,
) -> Running:
    """Start a long-running git whose stdout we stream; its stdin is ``stdin``, a pipe we
    write to (``fed``), or nothing."""
    import subprocess
    import tempfile  # deferred: only streaming git commands need it (~7 ms of start-up)

    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish, after git exits)
    env = git_env(keep_index=True)
    env["GIT_NO_LAZY_FETCH"] = "1"  # a partial clone's missing blobs are an error, not a download
    try:
        proc = subprocess.Popen(
            ["git", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if fed else (stdin or subprocess.DEVNULL),
            stdout=subprocess.PIPE,
            stderr=errors,
            bufsize=1 << 20,
        )
    except FileNotFoundError as exc:
        errors.close()
        raise FatalError("git is not installed or not on PATH") from exc
    assert proc.stdout is not None
    widen(proc.stdout)
    return Running(proc, errors)


PIPE_SIZE = 1 << 20  # Linux's default cap for an unprivileged process (/proc/sys/fs/pipe-max-size)
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, which Python names only from 3.10


def widen(pipe: IO[bytes]) -> None:
    """Give a pipe 1 MiB instead of 64 KiB, where Linux allows it: git then writes a history's
    objects in 16 times fewer rounds, each a wake-up of its reader on a busy machine (issue 14).

    Only a speed-up: anywhere else, or past a lower cap, the pipe stays as it was.
    """
    if not sys.platform.startswith("linux"):
        return
    import fcntl  # deferred: POSIX only, and only streaming git commands need it

    with contextlib.suppress(OSError):  # a cap below 1 MiB: the pipe stays as it was
        fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, PIPE_SIZE)


def finish(running: Running, what: str, failed: bool) -> None:
    """Reap a git; a non-zero exit after a complete read is fatal, with git's own reason."""
    if failed:
        running.proc.kill()
    code = running.proc.wait()
    running.errors.seek(0)
    stderr = running.errors.read()
    running.errors.close()
    if code != 0 and not failed:
        raise FatalError(f"git {what} failed: {reason(stderr, code)}")
