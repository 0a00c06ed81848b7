"""FIFOs with a writer already connected, for tests that must not race a reader's first read.

A scanner reads a FIFO only while something writes to it. A test writer that opens after the
scanner's first read would find it gone, so the write end is opened first: a read-write open
never blocks, and while it is held the write-only end opens at once and the data waits in the
pipe. ``FIONREAD`` then tells when the reader has taken it.
"""

from __future__ import annotations

import array
import fcntl
import os
import subprocess
import termios
import time
from pathlib import Path
from typing import Optional


def connected_writer(fifo: Path, data: bytes) -> int:
    """A write end of ``fifo`` with ``data`` already waiting in it, before any reader came."""
    both = os.open(fifo, os.O_RDWR)
    try:
        os.write(both, data)
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    finally:
        os.close(both)


def unread(fd: int) -> int:
    """Bytes waiting in the pipe behind ``fd``."""
    count = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, count)
    return count[0]


def wait_until_taken(
    fd: int,
    written: int,
    proc: Optional[subprocess.Popen] = None,  # type: ignore[type-arg]
    timeout: float = 30,
) -> None:
    """Return once a reader has taken some of the ``written`` bytes waiting behind ``fd``."""
    deadline = time.monotonic() + timeout
    while unread(fd) >= written:
        if time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
            code = None if proc is None else proc.poll()
            raise AssertionError(f"nobody read the FIFO (exit {code})")
        time.sleep(0.01)
