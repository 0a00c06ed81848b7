"""Use every core on a big scan: the main process walks, worker processes read and scan.

Reading and searching bytes is the bulk of a directory scan and holds the GIL, so threads would
not help; processes do. A pool costs a fork per core and some pickling, which a pre-commit run
over a handful of files must never pay: a walk of a few hundred files is scanned in-process,
and only a longer one, or one whose files add up to enough bytes, is handed to a pool.

Results come back in walk order (batches are collected oldest first), so ``--jobs 1`` and
``--jobs N`` report the same problems in the same order, and a bounded number of batches of
paths is in flight, so the walk is never queued whole in memory (100,000 files stay small).
Workers ignore SIGINT: on Ctrl-C the main process alone raises KeyboardInterrupt and
terminates them, so the user sees one "interrupted" line and no worker tracebacks. On Linux
the workers are plain forks of this process (forkpool.py), which start at once and need no
import; elsewhere fork is unsafe (macOS) or missing (Windows) and the stock ``multiprocessing``
spawn pool, used through its public API, does the same job.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import deque
from contextlib import contextmanager
from itertools import chain, islice
from typing import (
    Any,
    Callable,
    Deque,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Tuple,
    Union,
)

from .models import FileScan, Problem
from .sources.targets import FileTarget

Target = Union[FileTarget, Problem]
Item = Union[FileScan, Problem]
# How to scan one file: the pipeline's function, with its ruleset bound (functools.partial of a
# module-level function, so that a spawned worker can unpickle it). Passed in, so this module
# never imports the pipeline that imports it.
Scan = Callable[[FileTarget], FileScan]

START_FILES = 256  # a walk longer than this starts the pool: about what starting one costs
START_BYTES = 8 << 20  # so does a shorter one once this many bytes were scanned here
BATCH = 128  # files per task: large enough to amortise the round trip, small enough to balance
IN_FLIGHT = 16  # batches queued per worker: one big file must not idle the others; bounds memory
FORK = sys.platform == "linux"  # elsewhere fork is unsafe (macOS) or missing (Windows): spawn


class Plan(NamedTuple):
    """How much parallelism a scan may use, and when it starts."""

    jobs: int = 1
    start_files: int = START_FILES
    start_bytes: int = START_BYTES
    batch: int = BATCH


def auto_jobs() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return max(1, len(affinity(0)))
    return max(1, os.cpu_count() or 1)


def plan_for(jobs: Optional[int]) -> Plan:
    """``None`` or ``0`` means one worker per available core."""
    return Plan(jobs if jobs else auto_jobs(), START_FILES, START_BYTES, BATCH)


def scan_targets(targets: Iterable[Target], scan: Scan, plan: Plan) -> Iterator[Item]:
    """Each target scanned (walk problems passed through), in the order the walk yields them.

    The walk is read ``start_files`` targets ahead first (listing is cheap next to reading): a
    walk that goes on past them is a big scan, and the pool starts at once instead of after
    the first files were scanned here with the other cores idle. A short walk is scanned here,
    until its bytes show that a pool is worth it after all (a few huge files).
    """
    rest = iter(targets)
    if plan.jobs > 1:
        ahead = list(islice(rest, plan.start_files + 1))
        if len(ahead) > plan.start_files:
            yield from _in_pool(chain(ahead, rest), scan, plan)
            return
        rest = iter(ahead)
    size = 0
    for target in rest:
        item = _here(target, scan)
        yield item
        if isinstance(item, FileScan):
            size += item.size
            if plan.jobs > 1 and size >= plan.start_bytes:
                break
    following = next(rest, None)
    if following is not None:  # big files after all: the rest is worth a pool
        yield from _in_pool(chain([following], rest), scan, plan)


def _in_pool(targets: Iterator[Target], scan: Scan, plan: Plan) -> Iterator[Item]:
    """The targets scanned by worker processes; here, slower, if none can be started."""
    batches = _batches(targets, plan.batch)
    answers = _forked(batches, scan, plan) if FORK else _pooled(batches, scan, plan)
    if answers is None:
        yield from (_here(target, scan) for target in targets)
        return
    for answer in answers:
        yield from _unpacked(answer)


def _here(target: Target, scan: Scan) -> Item:
    return target if isinstance(target, Problem) else scan(target)


def _forked(batches: Iterator[List[Packed]], scan: Scan, plan: Plan) -> Optional[Any]:
    """Answers from workers forked off this process (forkpool.py): Linux, the common case."""
    from . import forkpool

    global _SCAN
    _SCAN = scan  # the workers inherit it with the rest of memory
    try:
        with _sigint_ignored():  # the workers start, and stay, deaf to Ctrl-C
            workers = forkpool.start(plan.jobs, _scan_batch)
    except OSError:
        return None
    return forkpool.ordered_map(workers, batches, plan.jobs * IN_FLIGHT)


def _pooled(batches: Iterator[List[Packed]], scan: Scan, plan: Plan) -> Optional[Any]:
    """Answers from a ``multiprocessing`` pool: where fork is unsafe or missing (spawn)."""
    pool = _start_pool(plan.jobs, scan)
    return None if pool is None else _from_pool(pool, batches, plan)


def _from_pool(pool: Any, batches: Iterator[List[Packed]], plan: Plan) -> Iterator[Results]:
    try:
        pending: Deque[Any] = deque()
        for batch in batches:
            pending.append(pool.apply_async(_scan_batch, (batch,)))
            if len(pending) >= plan.jobs * IN_FLIGHT:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
    except BaseException:  # Ctrl-C, a fatal error, or the consumer stopped: stop the workers now
        pool.terminate()
        raise
    finally:
        pool.close()
        pool.join()


# What crosses the process boundary, kept to plain tuples and ints: pickling a frozen dataclass
# costs far more than a tuple, and the main process, which pays for half of it, also walks.
Packed = Union[Tuple[str, str, bool, Optional[str]], Problem]  # a FileTarget as a tuple
# A batch's answer: how many of its files had nothing to report and their bytes, then, in walk
# order, every result that has something to say. Clean files need no order and no record each.
Results = Tuple[int, int, List[Item]]


def _batches(targets: Iterator[Target], size: int) -> Iterator[List[Packed]]:
    while True:
        batch = [_pack(target) for target in islice(targets, size)]
        if not batch:
            return
        yield batch


def _pack(target: Target) -> Packed:
    return (
        target
        if isinstance(target, Problem)
        else (target.path, target.display, target.link, target.rooted)
    )


def _unpacked(results: Results) -> Iterator[Item]:
    clean_files, clean_bytes, others = results
    yield from others
    if clean_files:
        yield FileScan((), None, clean_bytes, clean_files)


def _start_pool(jobs: int, scan: Scan) -> Optional[Any]:
    """A ``multiprocessing`` pool (spawn), or None where processes cannot be started (a sandbox
    without POSIX semaphores): the scan then goes on in this process, slower but complete."""
    import multiprocessing  # deferred: small scans and the hook never start a pool

    with _sigint_ignored():
        return _pool(multiprocessing.get_context("spawn"), jobs, scan)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Workers started in here inherit SIGINT ignored, so none dies with a traceback on Ctrl-C.

    Only the main thread may set handlers; elsewhere the workers ignore it themselves.
    """
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _pool(context: Any, jobs: int, scan: Scan) -> Optional[Any]:
    try:
        return context.Pool(jobs, _init_worker, (scan,))
    except (OSError, ImportError):
        return None


_SCAN: Optional[Scan] = None  # how workers scan a file: inherited by fork, or _init_worker


def _init_worker(scan: Scan) -> None:
    global _SCAN
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # spawn does not inherit the parent's SIG_IGN
    _SCAN = scan


def _scan_batch(batch: List[Packed]) -> Results:
    assert _SCAN is not None, "worker used before _init_worker"
    scan_file = _SCAN
    clean_files = clean_bytes = 0
    others: List[Item] = []
    for packed in batch:
        if isinstance(packed, Problem):
            others.append(packed)
            continue
        scanned = scan_file(FileTarget(*packed))
        if scanned.findings or scanned.problem is not None:
            others.append(scanned)
        else:
            clean_files, clean_bytes = clean_files + 1, clean_bytes + scanned.size
    return clean_files, clean_bytes, others
