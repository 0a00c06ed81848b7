"""Directory walks that see what git sees: ignored files skipped, tracked files always scanned.

One ``os.scandir`` per directory and no ``stat`` per file (``DirEntry`` answers from the
directory listing), an ignore file compiled only where one exists, and ignored directories
pruned, so ``node_modules/`` costs one pattern check. Tracked files come from a single
``git ls-files``; a tracked file inside an ignored directory is still scanned because it is
committed whatever ``.gitignore`` says.

A directory holding a ``.git`` is a boundary only where git takes it for a repository
(:func:`.gitenv.holds_repository`); debris such as an empty ``.git/`` is walked through, as git
does. When git cannot answer inside a work tree, the walk goes on with the ``.gitignore`` files
and reports the scan as incomplete: ignored files git tracks cannot be told apart.

Symbolic links are never followed (a link to a file in the tree is scanned as that file; a link
out of the tree or into a loop must not be): a link is scanned as git stores it, as its target's
text. FIFOs, sockets and devices are skipped without being opened, so a walk never hangs.
"""

from __future__ import annotations

import os
from functools import cached_property
from operator import attrgetter
from typing import FrozenSet, Iterator, List, NamedTuple, Optional, Tuple, Union

from ..errors import FatalError
from ..models import Problem, printable
from . import git, gitenv, ignore
from .ignore import Rules
from .targets import Excluder, FileTarget, dir_root, display_path, root_relative

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


class _Tree:
    """What a whole walk knows: whether ignore rules apply, and what git tracks. A plain class:
    one per walk, and it caches what it looks up on demand."""

    def __init__(
        self,
        use_ignore: bool,
        in_repo: bool,  # git answered: a nested repository is a gitlink, tracked files are known
        tracked: _Tracked,
        exclude: Optional[Excluder],
        root: Optional[str] = None,  # the work tree root, when git answered
        hex_digits: int = gitenv.SHA1_HEX,
        problem: Optional[Problem] = None,  # why the walk cannot be complete, found at its start
    ) -> None:
        self.use_ignore = use_ignore
        self.in_repo = in_repo
        self.tracked = tracked
        self.exclude = exclude
        self.root = root
        self.hex_digits = hex_digits
        self.problem = problem

    def is_repository(self, dot_git: str) -> bool:
        """Whether git takes the directory holding ``dot_git`` for another repository: not when
        that ``.git`` is a link to this work tree's own git directory (dir.c)."""
        if not gitenv.holds_repository(dot_git, self.hex_digits):
            return False
        return self.own_git_dir is None or os.path.realpath(dot_git) != self.own_git_dir

    @cached_property
    def own_git_dir(self) -> Optional[str]:
        if self.root is None:
            return None
        try:
            found = gitenv.named_git_dir(os.path.join(self.root, DOT_GIT))
        except OSError:
            return None
        return os.path.realpath(found) if found else None


class _Dir(NamedTuple):
    path: str  # absolute, to list and to open children with
    rel: str  # relative to the root that ignore patterns are relative to: "" or "a/b/"
    shown: str  # display prefix: "" or "sub/dir/"
    rules: Tuple[Rules, ...]  # highest precedence first
    tracked_only: bool = False  # inside an ignored directory: only tracked files count
    rooted: Optional[str] = None  # prefix from the root ("" or "sub/dir/"); None: ``shown``

    def named(self, name: str, suffix: str = "") -> Tuple[str, Optional[str]]:
        """(display path, root-relative path or None) of the entry ``name`` here, escaped."""
        shown = printable(name) + suffix
        return self.shown + shown, None if self.rooted is None else self.rooted + shown


def walk(
    top: str,
    use_ignore: bool = True,
    exclude: Optional[Excluder] = None,
    asked: Optional[git.Asked] = None,
) -> Iterator[Union[FileTarget, Problem]]:
    """Every file to scan under directory ``top``, in a deterministic (sorted) order.
    ``asked``: git's answer for one directory already (see :func:`.git.work_tree`)."""
    tree, start = _start(top, use_ignore, exclude, asked)
    if tree.problem is not None:
        yield tree.problem
    stack = [start]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here.path) as listing:
                entries = sorted(listing, key=_BY_NAME)
        except OSError as exc:
            yield Problem(_shown_dir(here.shown), f"cannot list directory: {exc.strerror or exc}")
            continue
        if here is not start and tree.use_ignore and _is_nested_repo(tree, entries):
            if not tree.in_repo:  # a repository among plain directories: walk it as git would
                yield from walk(here.path, use_ignore, exclude)
                continue
            if here.rel not in tree.tracked.dirs:  # git lists a gitlink, never the contents
                continue
            # git walks a directory that holds tracked files like any other (dir.c asks the
            # index before it looks for a nested repository), untracked files included
        subdirs: List[_Dir] = []
        yield from _visit(tree, _with_own_rules(tree, here, entries), entries, subdirs)
        stack.extend(reversed(subdirs))
    if tree.tracked.problem is not None:
        yield tree.tracked.problem


def _is_nested_repo(tree: _Tree, entries: List[os.DirEntry[str]]) -> bool:
    """Only where a ``.git`` entry exists is it read: nearly every directory costs nothing."""
    for entry in entries:
        if entry.name == DOT_GIT:
            return tree.is_repository(entry.path)
    return False


def _shown_dir(shown: str) -> str:
    return shown.rstrip("/") or "."


def _with_own_rules(tree: _Tree, here: _Dir, entries: List[os.DirEntry[str]]) -> _Dir:
    """``here`` with its own ``.gitignore`` (if it has one) in front of its parents' rules."""
    if not tree.use_ignore or here.tracked_only:
        return here
    if not any(entry.name == GITIGNORE for entry in entries):
        return here
    rules = ignore.read_rules(os.path.join(here.path, GITIGNORE), here.rel, follow_links=False)
    return here if rules is None else here._replace(rules=(rules, *here.rules))


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
                shown = printable(name)  # the hot line of a walk: no call more than needed
                rooted = None if here.rooted is None else here.rooted + shown
                yield FileTarget(entry.path, here.shown + shown, False, rooted)
        elif entry.is_dir(follow_symlinks=False):
            child = _child_dir(tree, here, name, entry.path)
            if child is not None:
                subdirs.append(child)
        elif entry.is_symlink() and _wanted_file(tree, here, name, entry.path):
            shown, rooted = here.named(name)
            yield FileTarget(entry.path, shown, link=True, rooted=rooted)  # its text
        # anything else (FIFO, socket, device) is skipped without being opened


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
    shown, rooted = here.named(name, "/")
    child = _Dir(path, rel, shown, here.rules, here.tracked_only, rooted)
    if here.tracked_only or (here.rules and ignore.is_ignored(here.rules, rel[:-1], name, True)):
        # git does not descend into an ignored directory; only files it tracks there count
        return child._replace(tracked_only=True) if rel in tree.tracked.dirs else None
    return child


def _start(
    top: str, use_ignore: bool, exclude: Optional[Excluder], asked: Optional[git.Asked] = None
) -> Tuple[_Tree, _Dir]:
    """The tree's facts and the first directory, with the rules inherited from above ``top``."""
    path = os.path.abspath(top)
    shown = display_path(top)
    shown = "" if shown == "." else shown.rstrip("/") + "/"
    try:
        found = git.work_tree(path, asked) if use_ignore else None
    except git.NoAnswer as exc:
        return _unanswered(path, shown, exc, exclude)
    if found is None:  # outside git, the walked directory's own .gitignore files still apply
        tree = _Tree(use_ignore, False, _Tracked(None, shown), exclude)
        root = path if use_ignore else dir_root(path)  # git was not asked with --no-ignore
        return tree, _Dir(path, "", shown, (), rooted=_rooted(path, root, shown))
    rel = _relative(os.path.realpath(path), found.root)
    problem = None
    try:
        rules = _gitignores_above(found.root, rel) + _git_rules(found.root)
    except FatalError as exc:  # git found the work tree, then failed: rules may be missing
        problem = Problem(_shown_dir(shown), _incomplete(exc))
        rules = _gitignores_above(found.root, rel)
    tracked = _Tracked(found.root, shown)
    tree = _Tree(True, True, tracked, exclude, found.root, found.hex_digits, problem)
    return tree, _Dir(path, rel, shown, rules, rooted=_prefix(printable(rel), shown))


def _unanswered(
    path: str, shown: str, exc: git.NoAnswer, exclude: Optional[Excluder]
) -> Tuple[_Tree, _Dir]:
    """A work tree git cannot answer for: its ``.gitignore`` files, and an incomplete scan.

    Nested repositories are walked like those among plain directories (each asks git anew):
    without git's list of tracked files, skipping them would be a silent gap.
    """
    rel = _relative(path, exc.root)
    problem = Problem(_shown_dir(shown), _incomplete(exc))
    tree = _Tree(True, False, _Tracked(None, shown), exclude, problem=problem)
    rooted = _prefix(printable(rel), shown)
    return tree, _Dir(path, rel, shown, _gitignores_above(exc.root, rel), rooted=rooted)


def _rooted(path: str, root: str, shown: str) -> Optional[str]:
    """The root-relative prefix of directory ``path``; None when it is the display prefix."""
    rel = root_relative(path, root)
    return _prefix(rel + "/" if rel else "", shown)


def _prefix(rooted: str, shown: str) -> Optional[str]:
    """None when the walk's files are shown by their root-relative path already (a scan from
    the root): the common case carries no second path per file."""
    return None if rooted == shown else rooted


def _incomplete(exc: FatalError) -> str:
    return f"ignored files that git tracks may be missed: {exc}; to scan without git: --no-ignore"


def _relative(path: str, root: str) -> str:
    """``path`` below ``root`` as the prefix ignore patterns see: "" or "a/b/"."""
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return "" if rel == "." else rel + "/"


def _parent_dirs(paths: FrozenSet[str]) -> FrozenSet[str]:
    dirs = set()
    for path in paths:
        end = path.rfind("/")
        while end > 0 and path[: end + 1] not in dirs:
            dirs.add(path[: end + 1])
            end = path.rfind("/", 0, end)
    return frozenset(dirs)


def _gitignores_above(root: str, rel: str) -> Tuple[Rules, ...]:
    """The ``.gitignore`` files of ``root`` .. the parent of ``root/rel``, deepest first."""
    found: List[Optional[Rules]] = []
    parts = rel.split("/")[:-1]
    for depth in range(len(parts)):
        base = "".join(part + "/" for part in parts[:depth])
        path = os.path.join(root, base, GITIGNORE)
        found.insert(0, ignore.read_rules(path, base, follow_links=False))
    return tuple(rules for rules in found if rules is not None)


def _git_rules(root: str) -> Tuple[Rules, ...]:
    """What git applies after every ``.gitignore``: ``.git/info/exclude``, then the user's
    ``core.excludesFile``. Both are the user's own files, and git follows links to them."""
    global_file = git.excludes_file(root)
    found = [ignore.read_rules(git.info_exclude(root))]
    found.append(ignore.read_rules(global_file) if global_file else None)
    return tuple(rules for rules in found if rules is not None)
