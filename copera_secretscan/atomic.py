"""Writing a file the user names: the whole file or nothing, and only the file they named.

A report or a baseline half-written by a crash or a full disk would be read later as a real
one, so a regular file is written to a temporary sibling, synced and renamed into place. The
rename is the only trick, and it must not surprise anyone:

* a device, FIFO or terminal is written through, as ``open`` would (``--output /dev/null``,
  a FIFO a reader waits on); renaming over it would put a regular file where ``/dev/null``
  was. A FIFO nobody reads is an error at once, never a hang. ``/dev/stdout`` is written
  through too, appending, even when the shell connected it to a file (``>> ci.log``);
* a symbolic link stays a link: the file it points to is the one replaced;
* the new file keeps the old one's mode (and owner, where allowed); a new file gets
  0666 less the umask, as ``open`` would give it; a read-only file is refused, not replaced;
* the temporary name is unpredictable and created exclusively without following links, so a
  link planted at a guessable name cannot make us (perhaps root) write somewhere else.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from typing import Optional, Tuple

from .errors import FatalError
from .models import printable

_O = {name: getattr(os, name, 0) for name in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_BINARY")}
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_TEMP_FLAGS |= _O["O_CLOEXEC"] | _O["O_BINARY"]
_THROUGH_FLAGS = os.O_WRONLY | os.O_APPEND | _O["O_NONBLOCK"] | _O["O_NOCTTY"]
_THROUGH_FLAGS |= _O["O_CLOEXEC"] | _O["O_BINARY"]
_PROC_FD = re.compile(r"/proc/[^/]+/fd\Z")
READ_ONLY = "read-only: make it writable to update it"


def write_atomically(path: str, text: str, what: str = "") -> None:
    """Write ``text`` as UTF-8 to ``path`` (see the module docstring); failure is one line."""
    try:
        _write(path, text.encode("utf-8", "backslashreplace"))  # never a half-written file
    except OSError as exc:
        raise FatalError(_message(path, what, exc)) from exc


def check_writable(path: str, what: str = "") -> None:
    """Fail now, before a long scan or an audit's questions, if ``path`` will be refused."""
    try:
        name, _ = _target(path)
        directory = os.path.dirname(name or "") or os.curdir
        if name is not None and not os.path.isdir(directory):
            raise FileNotFoundError(errno.ENOENT, f"no such directory {printable(directory)}")
    except OSError as exc:
        raise FatalError(_message(path, what, exc)) from exc


def _message(path: str, what: str, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENXIO:  # opening a FIFO (or socket) for writing with no reader
        reason = "nothing is reading it (a FIFO without a reader, or a socket)"
    return f"{printable(path)}: cannot write{' ' + what if what else ''}: {reason}"


def _write(path: str, data: bytes) -> None:
    name, old = _target(path)
    if name is None:
        _write_through(path, data)
    else:
        _replace(name, data, old)


def _target(path: str) -> Tuple[Optional[str], Optional[os.stat_result]]:
    """The name to rename onto (None: write through ``path``), and the file there now."""
    try:
        old: Optional[os.stat_result] = os.stat(path)
    except FileNotFoundError:
        old = None  # a new file, or a dangling link whose target we create
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    if old is not None and not stat.S_ISREG(old.st_mode):
        return None, old
    name = _resolved(path, old)
    if name is not None and old is not None:
        _check_permission(name, old)
    return name, old


def _resolved(path: str, old: Optional[os.stat_result]) -> Optional[str]:
    """``path`` with its links followed, or None to write through ``path`` instead.

    ``/dev/stdout`` or ``/proc/self/fd/1`` name whatever the shell connected, perhaps a file
    opened with ``>>``: that file is appended to, not replaced by another under its name.
    The same holds when the name the links lead to is not the file we found (one replaced
    meanwhile): writing through is what ``open`` would do.
    """
    if not os.path.islink(path):
        return path
    _check_link_owner(path)
    if _names_a_descriptor(path):
        return None
    name = os.path.realpath(path)
    if old is None:
        return name
    try:
        now = os.stat(name)
    except OSError:
        return None
    return name if (now.st_dev, now.st_ino) == (old.st_dev, old.st_ino) else None


def _names_a_descriptor(path: str) -> bool:
    """Whether following ``path``'s links goes through ``/proc/PID/fd`` (``/dev/fd`` is one)."""
    for _ in range(40):  # as many links as the kernel follows
        absolute = os.path.abspath(path)
        if _PROC_FD.match(os.path.realpath(os.path.dirname(absolute))):
            return True
        if not os.path.islink(absolute):
            return False
        path = os.path.join(os.path.dirname(absolute), os.readlink(absolute))
    return False


def _check_link_owner(link: str) -> None:
    """Refuse what Linux's ``protected_symlinks`` refuses ``open``: a link another user owns
    in a sticky, world-writable directory (``/tmp``), which would point us at their choice."""
    if not hasattr(os, "geteuid"):
        return
    parent = os.stat(os.path.dirname(os.path.abspath(link)))
    shared = parent.st_mode & stat.S_ISVTX and parent.st_mode & stat.S_IWOTH
    if shared and os.lstat(link).st_uid not in (os.geteuid(), parent.st_uid):
        raise PermissionError(
            errno.EACCES, "a symbolic link another user owns in a shared directory: not followed"
        )


def _check_permission(name: str, old: os.stat_result) -> None:
    """A file nobody may write (even root could) was made so on purpose; ``open`` would say
    EACCES for a file we may not write, and the rename must not quietly succeed instead."""
    if not old.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(errno.EACCES, READ_ONLY)
    if not os.access(name, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))


def _write_through(path: str, data: bytes) -> None:
    """Open and write (appending, see :func:`_resolved`); never block on a FIFO with no reader."""
    fd = os.open(path, _THROUGH_FLAGS)
    try:
        if _O["O_NONBLOCK"]:  # a slow reader must make us wait, not fail with EAGAIN
            os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _replace(name: str, data: bytes, old: Optional[os.stat_result]) -> None:
    """Write a temporary sibling of ``name``, sync it and rename it over ``name``."""
    fd, temp = _create_temp(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if old is not None:
                _keep_owner_and_mode(handle.fileno(), temp, old)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, name)
    except BaseException:  # Ctrl-C too: never leave a temporary file behind
        _remove(temp)
        raise


def _create_temp(name: str) -> Tuple[int, str]:
    """An exclusive new file with an unguessable name beside ``name``.

    What ``tempfile.mkstemp`` does, but created 0666 so the kernel applies the umask (and any
    default ACL) as ``open`` would: mkstemp's 0600 could only be widened by reading the umask,
    which means changing it, under the scanner's threads.
    """
    directory = os.path.dirname(name) or os.curdir
    stem = f".{os.path.basename(name)[:64]}."
    for _ in range(100):
        temp = os.path.join(directory, f"{stem}{os.urandom(8).hex()}.tmp")  # as secrets does
        try:
            return os.open(temp, _TEMP_FLAGS, 0o666), temp
        except FileExistsError:
            continue
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                errno.ENOENT, f"no such directory {printable(directory)}"
            ) from exc
    raise FileExistsError(errno.EEXIST, f"no free temporary name in {printable(directory)}")


def _keep_owner_and_mode(fd: int, temp: str, old: os.stat_result) -> None:
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        # Root keeps a user's file theirs, a user may keep its group; where we may not, the
        # rewritten file is ours, as after any editor's save.
        with contextlib.suppress(PermissionError):
            os.fchown(fd, old.st_uid, old.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))
    else:
        os.chmod(temp, stat.S_IMODE(old.st_mode))


def _remove(temp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp)


def write_bytes_atomically(path: str, data: bytes, what: str = "") -> None:
    """:func:`write_atomically` for bytes a user's file already held (a ``.gitignore`` with
    names that are not UTF-8): written back exactly, never re-encoded."""
    try:
        _write(path, data)
    except OSError as exc:
        raise FatalError(_message(path, what, exc)) from exc
