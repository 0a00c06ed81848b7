"""Terminal manners: colour only on a terminal and never with NO_COLOR or TERM=dumb; progress
only on a tty that understands control sequences (not TERM=dumb: an editor's shell buffer, a
CI log viewer that says it is a terminal)."""

from __future__ import annotations

import os
import sys
import time
from typing import Optional, TextIO

from ..console import plural


def use_color(stream: TextIO, forced: Optional[bool] = None) -> bool:
    """``--color``/``--no-color`` win; else a terminal without ``NO_COLOR`` (no-color.org)
    that is not ``TERM=dumb``."""
    if forced is not None:
        return forced
    if os.environ.get("NO_COLOR"):
        return False
    return smart_terminal(stream)


def smart_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that acts on control sequences (colour, ``\\r``, erase
    line); ``TERM=dumb`` is the convention for one that prints them instead."""
    if os.environ.get("TERM") == "dumb":
        return False
    return hasattr(stream, "isatty") and stream.isatty()


class Progress:
    """A one-line counter on stderr, redrawn at most ten times a second, erased at the end."""

    def __init__(self, stream: TextIO = sys.stderr, unit: str = "files") -> None:
        self.stream = stream
        self.unit = unit[:-1] if unit.endswith("s") else unit  # "blob": plural() says "1 blob"
        self.enabled = smart_terminal(stream)
        self.started = self.last = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, size: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.1:
            return
        self.last = now
        rate = size / max(now - self.started, 1e-6) / 1e6
        self.stream.write(
            f"\rscanning: {plural(done, self.unit)}, {size / 1e6:,.1f} MB, {rate:,.1f} MB/s "
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
