"""What a file scan is asked to read: a path to open and the path to show for it.

Both producers of file targets use these: :mod:`.sources` for the paths named on the command
line, :mod:`.walk` for the files under a directory. Kept in a module of its own, which imports
neither of them, so that :mod:`.sources` can use the walk and the walk can yield targets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Optional

from ..models import Origin, printable


@dataclass(frozen=True)
class FileTarget:
    path: str  # what to open
    display: str  # posix, relative to the working directory when under it
    link: bool = False  # a symbolic link, read as git stores it: its target's text

    def origin(self) -> Origin:
        """Where this file's findings come from: the one place a file's Origin is built."""
        return Origin(self.display)


Excluder = Callable[[str, bool], bool]  # (absolute path, is_dir) -> excluded by configuration?


def display_path(path: str, cwd: Optional[str] = None) -> str:
    """Posix path relative to ``cwd`` when the file is under it, else absolute."""
    cwd = cwd or os.getcwd()
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, cwd) if absolute.startswith(cwd) else absolute
    if rel.startswith(os.pardir):
        rel = absolute
    return printable(rel.replace(os.sep, "/"))
