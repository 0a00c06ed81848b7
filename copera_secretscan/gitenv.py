"""How every git we start is isolated from the caller's environment, with nothing but ``os``.

A hook runs with ``GIT_INDEX_FILE``, ``GIT_DIR`` and friends set for the *user's* repository
(pre-commit issue #300 taught this), and we must not let them point our queries elsewhere
unless we mean to. ``git.py`` and the lean ``scan --staged`` path in ``entry.py`` both start
git this way; this module is separate so that the lean path does not import ``git.py``'s
``typing`` and friends.
"""

from __future__ import annotations

import os

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


def work_tree_root(start: str) -> str | None:
    """The first directory from ``start`` up holding ``.git`` (a directory or a worktree file).

    With the variables above removed, git finds a work tree only this way, so None here means
    git would find none either, and nobody needs to start it to hear so.
    """
    here = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
