"""The only module that runs git. Small functions over NUL-separated output.

Every call isolates git from the caller's environment: a hook runs with ``GIT_INDEX_FILE``,
``GIT_DIR`` and friends set for the *user's* repository (pre-commit issue #300 taught this), and
we must not let them point our queries elsewhere unless we mean to.
"""

from __future__ import annotations

import os
import subprocess
from typing import Dict, List, Optional, Sequence

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
