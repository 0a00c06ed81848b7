"""Worker processes made with a bare ``fork`` and two pipes each: all a scan's pool needs.

``multiprocessing.Pool`` costs a scan imports before the first fork (pickle's friends,
sockets, tempfile, shutil, bz2, lzma) and three helper threads in the main process, all on the
critical path of a scan meant to keep pace with a fast grep (benchmarks/bench_scan.py compares
them). Where ``fork`` is the norm (Linux), a scan needs much less: N copies of this process,
the next task for whichever is free, and the answers back in the order the tasks were asked.

Safety, because a scanner must never hang or fail open: a worker that dies is a
:class:`~.errors.FatalError` naming its exit status, an exception in a worker is raised again
here, and leaving the iteration early (Ctrl-C, which workers ignore, an error, a consumer that
stops) kills the workers. Tasks are written without blocking, so a worker stuck writing a large
answer can never deadlock with us writing it its next task.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
from typing import Any, Callable, Dict, Iterator, List, NamedTuple

from .errors import FatalError

_HEADER = struct.Struct("<Q")  # each message: its length, then its pickle
QUEUED = 2  # tasks given to a worker at once: one to work on, one waiting for it


class Worker(NamedTuple):
    pid: int
    tasks: int  # our end of the task pipe (written, non-blocking)
    answers: int  # our end of the answer pipe (read)


def start(jobs: int, work: Callable[[Any], Any]) -> List[Worker]:
    """``jobs`` workers that will answer tasks with ``work(task)``; OSError if none can start."""
    workers: List[Worker] = []
    try:
        for _ in range(jobs):
            workers.append(_fork(work, workers))
    except OSError:
        stop(workers, kill=True)
        raise
    return workers


def ordered_map(workers: List[Worker], tasks: Iterator[Any], ahead: int) -> Iterator[Any]:
    """The workers' answers to ``tasks``, in the order of ``tasks``; the workers end with it.

    At most ``ahead`` tasks are out at once (sent, or answered but not yet yielded), so memory
    stays bounded however long ``tasks`` is and however slow one task is.
    """
    finished = False
    try:
        yield from _dispatch(workers, tasks, ahead)
        finished = True
    finally:
        stop(workers, kill=not finished)


def _fork(work: Callable[[Any], Any], siblings: List[Worker]) -> Worker:
    task_out, task_in = os.pipe()
    answer_out, answer_in = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the caller's code
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
            for fd in (task_in, answer_out, *(f for w in siblings for f in (w.tasks, w.answers))):
                os.close(fd)  # else a sibling's pipe never sees its end
            _serve(work, task_out, answer_in)
            status = 0
        finally:
            os._exit(status)  # no atexit handlers, no flushing the parent's buffered output
    os.close(task_out)
    os.close(answer_in)
    os.set_blocking(task_in, False)
    return Worker(pid, task_in, answer_out)


def _serve(work: Callable[[Any], Any], tasks: int, answers: int) -> None:
    while True:
        header = _read_exact(tasks, _HEADER.size)
        if not header:
            return  # the main process closed the pipe: no more tasks
        task = pickle.loads(_read_exact(tasks, _HEADER.unpack(header)[0]))
        try:
            answer = pickle.dumps((True, work(task)), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # raised again in the main process, where it means something
            answer = _pickled_error(exc)
        _write_all(answers, _HEADER.pack(len(answer)) + answer)


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot cross processes: its description can
        return pickle.dumps((False, FatalError(f"scan worker failed: {exc!r}")))


def _dispatch(workers: List[Worker], tasks: Iterator[Any], ahead: int) -> Iterator[Any]:
    queued: Dict[int, List[int]] = {w.answers: [] for w in workers}  # task numbers, oldest first
    outbox: Dict[int, bytearray] = {w.tasks: bytearray() for w in workers}
    by_fd = {**{w.answers: w for w in workers}, **{w.tasks: w for w in workers}}
    answered: Dict[int, Any] = {}
    sent = done = 0  # tasks sent; tasks yielded
    more = True
    while True:
        for worker in workers:  # top up every worker that has room, while there is work
            while more and len(queued[worker.answers]) < QUEUED and sent - done < ahead:
                task = next(tasks, _END)
                if task is _END:
                    more = False
                    break
                message = pickle.dumps(task, pickle.HIGHEST_PROTOCOL)
                outbox[worker.tasks] += _HEADER.pack(len(message)) + message
                queued[worker.answers].append(sent)
                sent += 1
        if done == sent:
            return
        waiting = [fd for fd, numbers in queued.items() if numbers]
        writable = [fd for fd, data in outbox.items() if data]
        readable, can_write, _ = select.select(waiting, writable, [])
        for fd in can_write:
            try:
                del outbox[fd][: os.write(fd, outbox[fd])]
            except BrokenPipeError:  # nobody reads it any more: the worker is gone
                raise _died(by_fd[fd]) from None
        for fd in readable:
            answered[queued[fd].pop(0)] = _answer(by_fd[fd])
        while done in answered:
            yield answered.pop(done)
            done += 1


_END = object()


def _answer(worker: Worker) -> Any:
    header = _read_exact(worker.answers, _HEADER.size)
    if not header:
        raise _died(worker)
    ok, value = pickle.loads(_read_exact(worker.answers, _HEADER.unpack(header)[0]))
    if not ok:
        raise value
    return value


def _died(worker: Worker) -> FatalError:
    """How the worker ended, read without reaping it (stop() does that, after killing the rest)."""
    ended = os.waitid(os.P_PID, worker.pid, os.WEXITED | os.WNOWAIT)
    assert ended is not None  # None only with WNOHANG
    if ended.si_code in (os.CLD_KILLED, os.CLD_DUMPED):
        how = f"killed by {signal.Signals(ended.si_status).name}"
    else:
        how = f"exit status {ended.si_status}"
    return FatalError(f"a scan worker process died ({how}); the scan is incomplete")


def stop(workers: List[Worker], kill: bool) -> None:
    """End and reap the workers: closing its task pipe lets a worker finish and exit; ``kill``
    ends it at once (an early stop: its answers are no longer wanted)."""
    for worker in workers:
        if kill:
            os.kill(worker.pid, signal.SIGKILL)  # not reaped yet, so the pid is still its own
        os.close(worker.tasks)
        os.close(worker.answers)
    for worker in workers:
        os.waitpid(worker.pid, 0)


def _read_exact(fd: int, size: int) -> bytes:
    """``size`` bytes, or b"" at the end of the stream before the first; a cut message is fatal."""
    chunks: List[bytes] = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            if left == size:
                return b""
            raise FatalError("a scan worker process stopped in the middle of a message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
