"""The forked workers: answers in order, bounded look-ahead, and never a hang or a silent loss.

Every test uses real forked processes and real pipes; a worker that dies or raises must turn
into an error in the main process, because a scan that lost a batch must not exit 0.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any, Iterator, List

import pytest

from copera_secretscan import forkpool
from copera_secretscan.errors import FatalError


def _run(work: Any, tasks: Iterator[Any], jobs: int = 2, ahead: int = 8) -> List[Any]:
    return list(forkpool.ordered_map(forkpool.start(jobs, work), tasks, ahead))


def _slow_on_multiples_of_five(n: int) -> int:
    if n % 5 == 0:
        time.sleep(0.02)  # answers arrive out of order; they must be yielded in order
    return n * n


def test_answers_come_back_in_the_order_of_the_tasks() -> None:
    assert _run(_slow_on_multiples_of_five, iter(range(40))) == [n * n for n in range(40)]


def test_no_tasks_and_one_worker() -> None:
    assert _run(_slow_on_multiples_of_five, iter([])) == []
    assert _run(_slow_on_multiples_of_five, iter(range(3)), jobs=1) == [0, 1, 4]


def _echo(data: bytes) -> bytes:
    return data[::-1]


def test_tasks_and_answers_larger_than_a_pipe_do_not_deadlock() -> None:
    tasks = [bytes([i]) * (3 << 20) for i in range(6)]  # 3 MiB each way, 64 KiB pipes
    assert _run(_echo, iter(tasks)) == [task[::-1] for task in tasks]


def test_at_most_ahead_tasks_are_taken_before_the_first_answer_is_used() -> None:
    taken: List[int] = []

    def tasks() -> Iterator[int]:
        for n in range(100):
            taken.append(n)
            yield n

    answers = forkpool.ordered_map(forkpool.start(2, _slow_on_multiples_of_five), tasks(), 6)
    assert next(answers) == 0
    assert len(taken) <= 6 + 1  # +1: the look that finds the limit may not have happened yet
    assert list(answers) == [n * n for n in range(1, 100)]


def _dies_on_three(n: int) -> int:
    if n == 3:
        os._exit(7)
    return n


def _killed_on_three(n: int) -> int:
    if n == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def test_a_worker_that_dies_is_a_fatal_error_not_a_hang() -> None:
    with pytest.raises(FatalError, match=r"worker process died \(exit status 7\)"):
        _run(_dies_on_three, iter(range(10)))
    with pytest.raises(FatalError, match=r"died \(killed by SIGKILL\)"):
        _run(_killed_on_three, iter(range(10)))


def test_a_worker_killed_while_idle_is_a_fatal_error_too() -> None:
    """Its task pipe then has no reader: the write fails, which must not escape as EPIPE."""
    workers = forkpool.start(2, _slow_on_multiples_of_five)
    os.kill(workers[0].pid, signal.SIGKILL)
    os.waitid(os.P_PID, workers[0].pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
    with pytest.raises(FatalError, match=r"died \(killed by SIGKILL\)"):
        list(forkpool.ordered_map(workers, iter(range(10)), 8))


class _Unpicklable(Exception):
    def __reduce__(self) -> Any:
        raise TypeError("no")


def _raises(n: int) -> int:
    if n == 2:
        raise FatalError("custom rule timed out")
    if n == 4:
        raise _Unpicklable("odd")
    return n


def test_an_exception_in_a_worker_is_raised_here() -> None:
    with pytest.raises(FatalError, match="custom rule timed out"):
        _run(_raises, iter(range(3)))
    with pytest.raises(FatalError, match="scan worker failed: _Unpicklable"):
        _run(_raises, iter([4]))


def test_stopping_early_kills_and_reaps_the_workers() -> None:
    workers = forkpool.start(2, _slow_on_multiples_of_five)
    answers = forkpool.ordered_map(workers, iter(range(1000)), 16)
    assert next(answers) == 0
    answers.close()  # what a consumer's exception or Ctrl-C does to the generator
    for worker in workers:
        with pytest.raises(ChildProcessError):
            os.waitpid(worker.pid, os.WNOHANG)


def test_workers_ignore_ctrl_c() -> None:
    """The terminal sends SIGINT to the whole group; only the main process may act on it."""

    def pid_after_sigint(_: int) -> int:
        os.kill(os.getpid(), signal.SIGINT)
        return os.getpid()

    pids = _run(pid_after_sigint, iter(range(4)))
    assert len(pids) == 4 and os.getpid() not in pids
