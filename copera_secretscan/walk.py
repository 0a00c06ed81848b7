"""Directory walks that see what git sees: ignored files skipped, tracked files always scanned.

One ``os.scandir`` per directory and no ``stat`` per file (``DirEntry`` answers from the
directory listing), an ignore file compiled only where one exists, and ignored directories
pruned, so ``node_modules/`` costs one pattern check. Tracked files come from a single
``git ls-files``; a tracked file inside an ignored directory is still scanned because it is
committed whatever ``.gitignore`` says.

Symbolic links are never followed (a link to a file in the tree is scanned as that file; a link
out of the tree or into a loop must not be), and FIFOs, sockets and devices are skipped without
being opened, so a walk never hangs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cached_property
from operator import attrgetter
from typing import FrozenSet, Iterator, List, Optional, Tuple, Union

from . import git, ignore
from .errors import FatalError
from .ignore import Rules
from .models import Problem
from .sources import Excluder, FileTarget, display_path, printable

GITIGNORE = ".gitignore"
DOT_GIT = ".git"
_BY_NAME = attrgetter("name")


class _Tracked:
    """What git tracks, asked only when an ignore rule first matches something.

    Tracked files matter only where a rule would skip them, so a walk whose rules match nothing
    (the common case) never pays for ``git ls-files``.
    """

    def __init__(self, root: Optional[str], shown: str) -> None:
        self.root = root
        self.shown = shown or "."
        self.problem: Optional[Problem] = None

    @cached_property
    def files(self) -> FrozenSet[str]:
        """Posix paths relative to the work tree root."""
        if self.root is None:
            return frozenset()
        try:
            return frozenset(git.tracked_files(self.root))
        except FatalError as exc:  # the scan is incomplete: ignored tracked files were missed
            self.problem = Problem(self.shown, str(exc))
            return frozenset()

    @cached_property
    def dirs(self) -> FrozenSet[str]:
        """Every directory (``a/``, ``a/b/``) that holds a tracked file."""
        return _parent_dirs(self.files)


@dataclass(frozen=True)
class _Tree:
    """What a whole walk knows: whether ignore rules apply, and what git tracks."""

    use_ignore: bool
    in_repo: bool
    tracked: _Tracked
    exclude: Optional[Excluder]


@dataclass(frozen=True)
class _Dir:
    path: str  # absolute, to list and to open children with
    rel: str  # relative to the root that ignore patterns are relative to: "" or "a/b/"
    shown: str  # display prefix: "" or "sub/dir/"
    rules: Tuple[Rules, ...]  # highest precedence first
    tracked_only: bool = False  # inside an ignored directory: only tracked files count


def walk(
    top: str, use_ignore: bool = True, exclude: Optional[Excluder] = None
) -> Iterator[Union[FileTarget, Problem]]:
    """Every file to scan under directory ``top``, in a deterministic (sorted) order."""
    tree, start = _start(top, use_ignore, exclude)
    stack = [start]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here.path) as listing:
                entries = sorted(listing, key=_BY_NAME)
        except OSError as exc:
            shown = here.shown.rstrip("/") or "."
            yield Problem(shown, f"cannot list directory: {exc.strerror or exc}")
            continue
        if here is not start and tree.use_ignore and _is_nested_repo(entries):
            if not tree.in_repo:  # a repository among plain directories: walk it as git would
                yield from walk(here.path, use_ignore, exclude)
                continue
            if here.rel not in tree.tracked.dirs:  # git lists a gitlink, never the contents
                continue
            here = replace(here, tracked_only=True)
        subdirs: List[_Dir] = []
        yield from _visit(tree, _with_own_rules(tree, here, entries), entries, subdirs)
        stack.extend(reversed(subdirs))
    if tree.tracked.problem is not None:
        yield tree.tracked.problem


def _is_nested_repo(entries: List[os.DirEntry[str]]) -> bool:
    return any(entry.name == DOT_GIT for entry in entries)


def _with_own_rules(tree: _Tree, here: _Dir, entries: List[os.DirEntry[str]]) -> _Dir:
    """``here`` with its own ``.gitignore`` (if it has one) in front of its parents' rules."""
    if not tree.use_ignore or here.tracked_only:
        return here
    if not any(entry.name == GITIGNORE for entry in entries):
        return here
    rules = ignore.read_rules(os.path.join(here.path, GITIGNORE), here.rel)
    return here if rules is None else replace(here, rules=(rules, *here.rules))


def _visit(
    tree: _Tree,
    here: _Dir,
    entries: List[os.DirEntry[str]],
    subdirs: List[_Dir],
) -> Iterator[FileTarget]:
    """Files of ``here`` to scan; its subdirectories worth entering go to ``subdirs``."""
    for entry in entries:
        name = entry.name
        if name == DOT_GIT:
            continue  # never entered, nor a .git file's target
        if entry.is_file(follow_symlinks=False):
            if _wanted_file(tree, here, name, entry.path):
                yield FileTarget(entry.path, here.shown + printable(name))
        elif entry.is_dir(follow_symlinks=False):
            child = _child_dir(tree, here, name, entry.path)
            if child is not None:
                subdirs.append(child)
        # anything else (symlink, FIFO, socket, device) is skipped without being opened


def _wanted_file(tree: _Tree, here: _Dir, name: str, path: str) -> bool:
    if not here.rules and tree.exclude is None and not here.tracked_only:
        return True  # --no-ignore, or no ignore file anywhere above: nothing to decide
    rel = here.rel + name
    if here.tracked_only:
        wanted = rel in tree.tracked.files
    else:
        wanted = (
            not (here.rules and ignore.is_ignored(here.rules, rel, name, is_dir=False))
            or rel in tree.tracked.files
        )
    return wanted and (tree.exclude is None or not tree.exclude(path, False))


def _child_dir(tree: _Tree, here: _Dir, name: str, path: str) -> Optional[_Dir]:
    if tree.exclude is not None and tree.exclude(path, True):
        return None
    rel = here.rel + name + "/"
    child = _Dir(path, rel, here.shown + printable(name) + "/", here.rules, here.tracked_only)
    if here.tracked_only or (here.rules and ignore.is_ignored(here.rules, rel[:-1], name, True)):
        # git does not descend into an ignored directory; only files it tracks there count
        return replace(child, tracked_only=True) if rel in tree.tracked.dirs else None
    return child


def _start(top: str, use_ignore: bool, exclude: Optional[Excluder]) -> Tuple[_Tree, _Dir]:
    """The tree's facts and the first directory, with the rules inherited from above ``top``."""
    path = os.path.abspath(top)
    shown = display_path(top)
    shown = "" if shown == "." else shown.rstrip("/") + "/"
    root = git.toplevel(path) if use_ignore else None
    if root is None:  # outside git, the walked directory's own .gitignore files still apply
        tree = _Tree(use_ignore, False, _Tracked(None, shown), exclude)
        return tree, _Dir(path, "", shown, ())
    rel = os.path.relpath(os.path.realpath(path), root).replace(os.sep, "/")
    rel = "" if rel == "." else rel + "/"
    tree = _Tree(True, True, _Tracked(root, shown), exclude)
    return tree, _Dir(path, rel, shown, _inherited_rules(root, rel))


def _parent_dirs(paths: FrozenSet[str]) -> FrozenSet[str]:
    dirs = set()
    for path in paths:
        end = path.rfind("/")
        while end > 0 and path[: end + 1] not in dirs:
            dirs.add(path[: end + 1])
            end = path.rfind("/", 0, end)
    return frozenset(dirs)


def _inherited_rules(root: str, rel: str) -> Tuple[Rules, ...]:
    """Rules that apply to ``root/rel`` from above it, highest precedence first.

    Git's order: ``.gitignore`` files from the deepest up to the root, then
    ``.git/info/exclude``, then the user's ``core.excludesFile``.
    """
    found = [ignore.read_rules(_git_path(root, "info/exclude")), _global_rules(root)]
    parts = rel.split("/")[:-1]
    for depth in range(len(parts)):  # the .gitignore files of root .. parent of top
        base = "".join(part + "/" for part in parts[:depth])
        found.insert(0, ignore.read_rules(os.path.join(root, base, GITIGNORE), base))
    return tuple(rules for rules in found if rules is not None)


def _global_rules(root: str) -> Optional[Rules]:
    path = git.excludes_file(root)
    return ignore.read_rules(path) if path else None


def _git_path(root: str, name: str) -> str:
    """Where git keeps ``name`` (in a linked worktree, ``info/`` lives in the common dir)."""
    out = git.run(["rev-parse", "--git-path", name], cwd=root, check=False)
    return os.path.join(root, out.decode("utf-8", "surrogateescape").strip() or ".git/" + name)
