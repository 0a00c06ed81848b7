"""Read the next chunk of a large file on another core while the engine searches this one.

Reading releases the GIL, so a thread can have the kernel copy the next megabyte while the
main thread searches and counts lines in the current one, so a large file scans faster when a
second core is free (benchmarks/bench_memory.py times one). At most two chunks wait in the
queue, so memory stays bounded. Only for regular files, whose reads always return: a thread
blocked on a pipe or a terminal could not be stopped.
"""

from __future__ import annotations

import queue
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, List, Union

Reader = Callable[[int], bytes]  # read(n): up to n bytes, b"" only at the end
Slot = Union[bytes, OSError]
DEPTH = 2  # chunks read ahead at most


@contextmanager
def read_ahead(read: Reader, size: int) -> Iterator[Reader]:
    """A reader that returns ``read(size)`` results fetched one step ahead by a thread.

    Leaving the block stops the thread before the caller closes the file, whatever happened.
    """
    slots: queue.Queue[Slot] = queue.Queue(DEPTH)
    stop = threading.Event()
    thread = threading.Thread(target=_fill, args=(read, size, slots, stop), daemon=True)
    thread.start()
    try:
        yield _taker(slots)
    finally:
        stop.set()
        while thread.is_alive():  # free a slot for a pending put, then let the read finish
            _drain(slots)
            thread.join(0.01)


def _fill(read: Reader, size: int, slots: queue.Queue[Slot], stop: threading.Event) -> None:
    try:
        while not stop.is_set():
            data = read(size)
            slots.put(data)
            if not data:
                return
    except OSError as exc:  # the consumer raises it, so the file becomes a Problem as before
        slots.put(exc)


def _taker(slots: queue.Queue[Slot]) -> Reader:
    ended: List[bool] = []

    def take(_size: int) -> bytes:
        if ended:
            return b""  # the end was seen: never wait for a chunk that will not come
        slot = slots.get()
        if isinstance(slot, OSError):
            ended.append(True)
            raise slot
        if not slot:
            ended.append(True)
        return slot

    return take


def _drain(slots: queue.Queue[Slot]) -> None:
    try:
        while True:
            slots.get_nowait()
    except queue.Empty:
        pass
