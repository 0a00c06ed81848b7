"""``doctor --fix``: the two safe fixes, and nothing else.

Missing lines are appended to the ``.gitignore`` at the repository root, which keeps its
content byte for byte, its line endings and its mode (the file is replaced whole or not at all,
by :mod:`.atomic`); the home config is made ``0600``. Nothing else is ever written: a tracked
token file, a token in a file or a committed config needs a person (rotate, then remove).
"""

from __future__ import annotations

import os
from typing import List, Sequence

from .atomic import write_bytes_atomically
from .doctor import Checkup
from .errors import FatalError
from .models import printable
from .sources.targets import display_path

GITIGNORE = ".gitignore"
PRIVATE = 0o600


def apply(checkup: Checkup) -> List[str]:
    """Apply every fix ``checkup`` offers; one line for each thing changed."""
    done: List[str] = []
    lines = [issue.ignore for issue in checkup.issues if issue.ignore is not None]
    if lines and checkup.root is not None:
        done += append_ignores(os.path.join(checkup.root, GITIGNORE), lines)
    for issue in checkup.issues:
        if issue.chmod is not None:
            done.append(make_private(issue.chmod))
    return done


def append_ignores(path: str, lines: Sequence[str]) -> List[str]:
    """``lines`` not yet in the ignore file at ``path`` appended to it (created if missing).

    A symbolic link is refused rather than followed: it points into another tree (a dotfiles
    repository, a shared template) that this repository's fix has no business changing.
    """
    shown = display_path(path)
    if os.path.islink(path):
        raise FatalError(f"{shown}: a symbolic link: not written; add to it: {', '.join(lines)}")
    data = _read(path)
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    present = {line.rstrip(b"\r") for line in data.split(b"\n")}
    new = [line for line in dict.fromkeys(lines) if line.encode("utf-8") not in present]
    if not new:
        return []
    if data and not data.endswith(b"\n"):
        data += newline  # the last line keeps its meaning: never glued to ours
    data += b"".join(line.encode("utf-8") + newline for line in new)
    write_bytes_atomically(path, data)
    return [f"{shown}: added {line}" for line in new]


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise FatalError(f"{display_path(path)}: cannot read: {exc.strerror or exc}") from exc


def make_private(path: str) -> str:
    """``chmod 600`` the home config: only its owner reads the tokens it holds."""
    try:
        os.chmod(path, PRIVATE)
    except OSError as exc:
        raise FatalError(f"{printable(path)}: cannot chmod 600: {exc.strerror or exc}") from exc
    return f"{printable(path)}: chmod 600"
