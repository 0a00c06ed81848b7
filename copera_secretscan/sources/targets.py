"""What a file scan is asked to read: a path to open, the path to show for it, and its path
from the repository root.

The root is the git work tree that holds the file, found once per scanned argument (a scan may
name a path in another repository). Outside any work tree a walked directory is its own root;
a file named outside git keeps the path it was named by. Either way the root-relative path is
what code scanning, CI annotations and the baseline see, whatever the working directory.

Both producers of file targets use these: :mod:`.files` for the paths named on the command
line, :mod:`.walk` for the files under a directory. Kept in a module of its own, which imports
neither of them, so that :mod:`.files` can use the walk and the walk can yield targets.
"""

from __future__ import annotations

import os
from typing import Callable, Dict, NamedTuple, Optional

from ..models import Origin, printable
from .gitenv import work_tree_root


class FileTarget(NamedTuple):
    """One file to read. A tuple, not a dataclass: a walk makes one per file, and a tuple is
    built several times faster than a frozen dataclass, which pays for the second path."""

    path: str  # what to open
    display: str  # posix, relative to the working directory when under it
    link: bool = False  # a symbolic link, read as git stores it: its target's text
    rooted: Optional[str] = None  # posix, from the root; None when the same as ``display``

    def origin(self) -> Origin:
        """The one place a file's Origin is built: every reader of files starts here."""
        return Origin(self.display, None, self.rooted)


Excluder = Callable[[str, bool], bool]  # (absolute path, is_dir) -> excluded by configuration?


def display_path(path: str, cwd: Optional[str] = None) -> str:
    """Posix path relative to ``cwd`` when the file is under it, else absolute."""
    cwd = cwd or os.getcwd()
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, cwd) if absolute.startswith(cwd) else absolute
    if rel.startswith(os.pardir):
        rel = absolute
    return printable(rel.replace(os.sep, "/"))


def root_relative(path: str, root: str) -> str:
    """``path`` as posix relative to ``root``, escaped as display paths are: "" for the root."""
    rel = os.path.relpath(os.path.abspath(path), root)
    return "" if rel == os.curdir else printable(rel.replace(os.sep, "/"))


def dir_root(path: str) -> str:
    """The root a directory argument's files are named from: the git work tree holding it, else
    the directory itself. Read from disk (no git process), as git itself finds a work tree."""
    return work_tree_root(path, repository=True) or os.path.abspath(path)


class Roots:
    """Root-relative paths of the files named as arguments, one work tree lookup per directory.

    A hook run names hundreds of files, most in a few directories: each directory is looked up
    and made relative once, never each file.
    """

    def __init__(self) -> None:
        self.prefixes: Dict[str, Optional[str]] = {}  # directory -> "" or "a/b/"; None: no git

    def rooted(self, path: str, shown: str) -> Optional[str]:
        """``path`` from its work tree root; None when that is ``shown`` or outside git (a
        file named outside any work tree keeps the path it was named by)."""
        directory, name = os.path.split(os.path.abspath(path))
        if directory not in self.prefixes:
            self.prefixes[directory] = _prefix_in_work_tree(directory)
        prefix = self.prefixes[directory]
        rooted = None if prefix is None else prefix + printable(name)
        return None if rooted == shown else rooted


def _prefix_in_work_tree(directory: str) -> Optional[str]:
    root = work_tree_root(directory, repository=True)
    if root is None:
        return None
    rel = root_relative(directory, root)
    return rel + "/" if rel else ""
