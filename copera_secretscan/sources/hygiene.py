"""Facts for ``doctor``: what a repository and this machine hold, gathered here and judged
elsewhere (``doctor.py``).

Nothing here decides what is a problem, and nothing scans: the untracked files that may hold
tokens are handed over as :class:`~.models.Input` items, which the pipeline scans like any
other. Git is asked through :mod:`.git`; the rest is read from disk, so a healthy repository
costs three git processes.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Tuple

from ..models import Input, Problem
from . import git
from .files import read_target
from .gitenv import is_git_directory, work_tree_root
from .targets import FileTarget, display_path

HOME_CONFIG = ".copera.toml"  # the Copera CLI's profiles, every one with its token
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
HOOK_TYPES = ("pre-commit", "pre-push", "commit-msg")  # the git hooks our hook ids run in
PRE_COMMIT_MARK = b"pre-commit"  # every script pre-commit installs names itself
CI_FILES = (".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml", "bitbucket-pipelines.yml")
WORKFLOWS = ".github/workflows"
OURS = b"copera-secretscan"
# `- id: copera-secretscan-push`, `id: "copera-secretscan"`: a hook id line of pre-commit's YAML
_HOOK_ID = re.compile(rb"""^[ \t-]*id:[ \t]*["']?(copera-secretscan[a-z-]*)""", re.MULTILINE)


@dataclass(frozen=True)
class Home:
    """``~/.copera.toml`` as found: its mode (None where modes mean nothing: Windows) and the
    git work tree it sits in, if any (a dotfiles repository)."""

    path: str
    mode: Optional[int]
    work_tree: Optional[str]


@dataclass(frozen=True)
class Repository:
    """A work tree's facts: paths are from ``root``, posix, as git names them."""

    root: str
    untracked: Tuple[str, ...]  # neither tracked nor ignored: what `git add -A` would add
    tracked: Tuple[str, ...]
    hook_ids: Tuple[str, ...]  # our hook ids that .pre-commit-config.yaml lists
    installed: Tuple[str, ...]  # the hook types pre-commit installed a script for
    ci_recipes: Tuple[str, ...]  # CI files that mention copera-secretscan


class NotAWorkTree(Exception):
    """``path`` is in no git work tree; ``bare`` when it is a bare repository."""

    def __init__(self, path: str, bare: bool) -> None:
        super().__init__(path)
        self.bare = bare


def home_config() -> Optional[Home]:
    """``~/.copera.toml`` (``HOME`` honoured), or None when there is none."""
    path = os.path.join(os.path.expanduser("~"), HOME_CONFIG)
    try:
        info = os.stat(path)
    except OSError:
        return None
    mode = None if os.name == "nt" else stat.S_IMODE(info.st_mode)
    return Home(path, mode, _work_tree_of(path))


def _work_tree_of(path: str) -> Optional[str]:
    """The work tree holding ``path`` or, for a link (dotfiles managers link into their
    repository), the file it points to; read from disk, no git started."""
    for place in (path, os.path.realpath(path)):
        found = work_tree_root(os.path.dirname(place), repository=True)
        if found is not None:
            return found
    return None


def repository(path: str) -> Repository:
    """The facts of the work tree holding ``path``; :class:`NotAWorkTree` outside one."""
    root = git.toplevel(path)  # a .git git cannot use is a FatalError: never "no repository"
    if root is None:
        raise NotAWorkTree(path, is_git_directory(os.path.abspath(path)))
    return Repository(
        root=root,
        untracked=tuple(git.untracked_files(root)),
        tracked=tuple(git.tracked_files(root)),
        hook_ids=hook_ids(os.path.join(root, PRE_COMMIT_CONFIG)),
        installed=installed_hooks(git.git_path("hooks", root)),
        ci_recipes=ci_recipes(root),
    )


def hook_ids(config: str) -> Tuple[str, ...]:
    """Our hook ids in pre-commit's config, read as text: a YAML parser for one key would be a
    dependency, and an id line has one shape."""
    data = _read(config)
    return tuple(dict.fromkeys(m.decode("ascii") for m in _HOOK_ID.findall(data)))


def installed_hooks(hooks_dir: str) -> Tuple[str, ...]:
    """The hook types whose script in ``hooks_dir`` pre-commit wrote. ``git rev-parse
    --git-path hooks`` names the directory: it honours ``core.hooksPath`` and linked worktrees."""
    return tuple(
        kind for kind in HOOK_TYPES if PRE_COMMIT_MARK in _read(os.path.join(hooks_dir, kind))
    )


def ci_recipes(root: str) -> Tuple[str, ...]:
    """The CI recipes at ``root`` (GitHub workflows, GitLab, Jenkins, Azure, Bitbucket) that
    run copera-secretscan."""
    candidates = list(CI_FILES)
    workflows = os.path.join(root, *WORKFLOWS.split("/"))
    if os.path.isdir(workflows):
        names = sorted(os.listdir(workflows))
        candidates += [f"{WORKFLOWS}/{n}" for n in names if n.endswith((".yml", ".yaml"))]
    return tuple(name for name in candidates if OURS in _read(os.path.join(root, name)))


def _read(path: str) -> bytes:
    """A small file's bytes, or b"" when it is missing or unreadable: these are hints only."""
    try:
        with open(path, "rb") as handle:
            return handle.read(1 << 20)
    except OSError:
        return b""


def file_items(root: str, paths: Iterable[str]) -> Iterator[Input | Problem]:
    """The inputs of ``paths`` (from ``root``) for the pipeline to scan; a link is read as git
    stores it, its target's text, and an unreadable file is a Problem."""
    cwd = os.getcwd()  # once: display_path would ask for every file
    for path in paths:
        full = os.path.join(root, *path.split("/"))
        target = FileTarget(full, display_path(full, cwd), os.path.islink(full), path)
        yield from read_target(target)
