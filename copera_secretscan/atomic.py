"""Writing a file the user owns: the whole file or nothing.

A report or a baseline half-written by a crash or a full disk would be read later as a real
one; a temporary sibling renamed into place is atomic on POSIX and Windows alike.
"""

from __future__ import annotations

import os

from .errors import FatalError


def write_atomically(path: str, text: str, what: str = "") -> None:
    """Write ``text`` to ``path`` through a temporary sibling; failure is one fatal line."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        target = f" {what}" if what else ""
        raise FatalError(f"{path}: cannot write{target}: {exc.strerror or exc}") from exc
