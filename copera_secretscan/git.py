"""The only module that runs git. Small functions over NUL-separated output; ``gitobjects``
streams objects through the gits that :func:`spawn` starts.

Every call isolates git from the caller's environment (:func:`.gitenv.git_env`).
"""

from __future__ import annotations

import os
import subprocess
from typing import IO, Dict, List, NamedTuple, Optional, Sequence, Tuple

from .errors import FatalError
from .gitenv import STAGED_DIFF, git_env, work_tree_root

MIN_GIT = (2, 30)


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
        raise FatalError(f"git {args[0]} failed: {reason(proc.stderr, proc.returncode)}")
    return proc.stdout


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


def toplevel(path: str) -> Optional[str]:
    """The work tree root containing ``path``, or None outside a work tree (or git missing).

    Outside any ``.git`` git is not started: that answer is certain, and scanning a plain
    directory then costs no process at all.
    """
    if work_tree_root(path) is None:
        return None
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


def version() -> tuple:
    """git's version as a tuple of ints; fatal when git is missing."""
    out = run(["version"]).decode("ascii", "replace")
    digits = out.split()[2].split(".")[:3] if len(out.split()) > 2 else []
    return tuple(int(d) for d in digits if d.isdigit())


# --- the index, revisions and long-running gits for ``gitobjects`` ------------------------------

GITLINK = "160000"  # a submodule's commit in the index: content lives in another repository


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
    fields = out.split(b"\0")
    pairs = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        parts = meta.split()
        if len(parts) >= 4 and parts[1] != GITLINK.encode():
            pairs.append((parts[3].decode("ascii"), path.decode("utf-8", "surrogateescape")))
    return pairs


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
    if not run(["rev-parse", "--verify", "--quiet", "refs/stash"], cwd=cwd, check=False):
        return []
    out = run(["log", "-g", "--format=%H", "refs/stash", "--"], cwd=cwd)
    return out.decode("ascii").split()


def commit_exists(rev: str, cwd: Optional[str] = None) -> bool:
    out = run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=cwd, check=False)
    return bool(out.strip())


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
    return Running(proc, errors)


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
