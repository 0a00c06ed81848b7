"""Reading a file without ever hanging: a message file, a baseline, a scan input, an ignore
file, the hook's files.

A name can lead to a FIFO (``--commit-msg <(cmd)``, or one swapped in by someone else), and a
blocking ``open`` of a FIFO waits for a writer that may never come: a hook that hangs is a hook
that gets killed and skipped. So every open is non-blocking (:data:`READ_FLAGS`), a FIFO is
read only while something writes to it, and a device (``/dev/zero``, a terminal) is refused
rather than read. Nothing but ``os``, ``errno`` and ``stat``: the hook's lean path opens with
these flags too.
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import Optional

# O_NONBLOCK: opening a FIFO must never wait for a writer (regular files ignore the flag).
READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
NO_WRITER = "FIFO with no writer: not read"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # opening a link fails: no lstat first


class Refused(OSError):
    """A name we will not read (a directory, a device, a FIFO with no writer); its
    ``strerror`` is the whole reason, ready to follow the file's name."""


def read_whole(path: str) -> bytes:
    """All of a regular file, or of a FIFO something writes to; :class:`Refused` for a
    directory, a device, a socket or a FIFO with no writer, OSError when reading fails."""
    fd = os.open(path, READ_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise Refused(errno.EISDIR, "is a directory, not a file")
        first = b""
        if stat.S_ISFIFO(mode):
            probed = probe_fifo(fd)
            if probed is None:
                raise Refused(errno.EPIPE, NO_WRITER)
            first = probed
        elif not stat.S_ISREG(mode):
            raise Refused(errno.EINVAL, "not a regular file (device or socket): not read")
        with open(fd, "rb", closefd=False) as handle:
            return first + handle.read()
    finally:
        os.close(fd)


def read_regular(path: str, follow_links: bool = True) -> Optional[bytes]:
    """A regular file's bytes; None for anything else (a FIFO, a device, a directory, and a
    symbolic link when ``follow_links`` is off). OSError when it cannot be opened or read."""
    if not follow_links and not _NOFOLLOW and os.path.islink(path):
        return None  # no O_NOFOLLOW here (Windows): ask the slow way
    fd = os.open(path, READ_FLAGS if follow_links else READ_FLAGS | _NOFOLLOW)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        chunks = [os.read(fd, info.st_size + 1)]  # one read, and one more to see the end
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 16))
        return b"".join(chunks)
    finally:
        os.close(fd)


def reason(exc: OSError) -> str:
    """What to print after a file's name when :func:`read_whole` failed."""
    return str(exc.strerror) if isinstance(exc, Refused) else f"cannot read: {exc.strerror or exc}"


def probe_fifo(fd: int) -> Optional[bytes]:
    """The first byte of a FIFO opened non-blocking (b"" if its writer has sent nothing yet),
    with the descriptor made blocking for the rest; None when no writer is there.

    An empty read means no writer (a writer that already left looks the same: nothing to read
    either way), EAGAIN means a writer is connected and the rest is worth waiting for.
    """
    try:
        first = os.read(fd, 1)
    except BlockingIOError:
        first = b""
    else:
        if not first:
            return None
    os.set_blocking(fd, True)
    return first
