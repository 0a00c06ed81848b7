"""The worker pool changes how fast a scan runs, never what it reports.

The thresholds are lowered so that a tree of a few dozen files starts the pool; every test
compares against ``--jobs 1`` (no pool at all) or checks an exit path the pool must not break:
a file that vanishes between the walk and the read, and Ctrl-C while a worker is blocked.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest

from copera_secretscan import forkpool, parallel
from copera_secretscan import pipeline as scanner
from copera_secretscan.cli.main import cli
from copera_secretscan.config.settings import Settings
from copera_secretscan.models import ScanResult
from copera_secretscan.sources import files as sources
from tests.conftest import cli_runner
from tests.fifos import connected_writer, wait_until_taken
from tests.tokens import make_token


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start the pool after 5 files, in batches of 3, so small trees exercise it."""
    monkeypatch.setattr(parallel, "START_FILES", 5)
    monkeypatch.setattr(parallel, "BATCH", 3)


def make_tree(root: Path, files: int = 60) -> List[str]:
    """Files in nested directories; every 7th holds a token; returns the tokens planted."""
    tokens = []
    for i in range(files):
        path = root / f"d{i % 4}" / f"e{i % 3}" / f"f{i:03d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = f"line one {i}\nname = value_{i}\n"
        if i % 7 == 0:
            token = make_token("cp_key_", 24 + i % 9, seed=i)
            tokens.append(token)
            text += f"  key: {token}\n"
        path.write_text(text * (1 + i % 5))
    (root / "blob.bin").write_bytes(b"\x00\xff" * 5000 + tokens[0].encode() + b"\x00")
    return tokens


@pytest.fixture(params=["fork", "spawn"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways workers start: forks of this process (Linux) and a spawn pool (elsewhere)."""
    monkeypatch.setattr(parallel, "FORK", request.param == "fork")
    return str(request.param)


def scan(root: Path, jobs: int) -> ScanResult:
    return scanner.scan_paths([str(root)], Settings(root=str(root)), jobs=jobs)


def comparable(result: ScanResult) -> Tuple[object, ...]:
    return (result.findings, result.problems, result.files, result.bytes)


@pytest.mark.usefixtures("small_pool", "backend")
def test_pool_reports_exactly_what_one_process_reports(tmp_path: Path) -> None:
    tokens = make_tree(tmp_path)
    alone, pooled = scan(tmp_path, jobs=1), scan(tmp_path, jobs=2)
    assert comparable(pooled) == comparable(alone)
    assert sorted({f.secret for f in pooled.findings}) == sorted(tokens)
    repeats = sum(1 + i % 5 for i in range(0, 60, 7))  # each token's line is repeated
    assert len(pooled.findings) == repeats + 1  # and the blob holds one more
    assert pooled.files == 61


@pytest.mark.usefixtures("small_pool")
def test_pooled_results_are_deterministic(tmp_path: Path) -> None:
    make_tree(tmp_path)
    first = scan(tmp_path, jobs=2)
    for _ in range(3):
        assert comparable(scan(tmp_path, jobs=2)) == comparable(first)


@pytest.mark.usefixtures("small_pool", "backend")
def test_file_vanishing_before_a_worker_reads_it_is_a_problem_in_walk_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, files=30)
    walk = sources.iter_targets

    def walk_then_lose_one(*args: object, **kwargs: object) -> Iterator[object]:
        for i, item in enumerate(walk(*args, **kwargs)):  # type: ignore[arg-type]
            yield item
            if i in (10, 20):  # deleted after the walk saw it, as if removed mid-scan
                yield sources.FileTarget(str(tmp_path / f"gone{i}.txt"), f"gone{i}.txt")

    monkeypatch.setattr(sources, "iter_targets", walk_then_lose_one)
    alone, pooled = scan(tmp_path, jobs=1), scan(tmp_path, jobs=2)
    assert [p.path for p in pooled.problems] == ["gone10.txt", "gone20.txt"]
    assert "No such file or directory" in pooled.problems[0].message
    assert comparable(pooled) == comparable(alone)
    assert scanner.exit_code(pooled) == 1  # tokens found too: 1, with the problems printed


@pytest.mark.usefixtures("small_pool")
def test_cli_jobs_option_and_exit_2_for_an_unreadable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(20):
        (tmp_path / f"clean{i}.txt").write_text("nothing to see\n" * i)
    walk = sources.iter_targets

    def with_vanished(*args: object, **kwargs: object) -> Iterator[object]:
        yield from walk(*args, **kwargs)  # type: ignore[arg-type]
        yield sources.FileTarget(str(tmp_path / "vanished.txt"), "vanished.txt")

    monkeypatch.setattr(sources, "iter_targets", with_vanished)
    monkeypatch.chdir(tmp_path)
    runner = cli_runner()
    for jobs in ("1", "2"):
        result = runner.invoke(cli, ["scan", "--jobs", jobs, "."])
        assert result.exit_code == 2, result.output
        assert "vanished.txt: cannot read: No such file or directory" in result.stderr


@pytest.mark.usefixtures("small_pool")
def test_progress_is_reported_and_ends_at_the_totals(tmp_path: Path) -> None:
    make_tree(tmp_path, files=25)
    calls: List[Tuple[int, int]] = []
    result = scanner.scan_paths(
        [str(tmp_path)], Settings(), progress=lambda n, b: calls.append((n, b)), jobs=2
    )
    assert result.files == 26
    assert calls[-1] == (result.files, result.bytes)
    assert calls == sorted(calls) and len(set(calls)) == len(calls)  # only ever moves forward
    assert len(calls) > 2  # and moves during the scan, not only at the end


@pytest.mark.usefixtures("small_pool")
def test_interrupt_in_the_consumer_stops_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    make_tree(tmp_path, files=40)
    forked: List[int] = []
    start = forkpool.start

    def recording(jobs: int, work: Any) -> List[forkpool.Worker]:
        workers = start(jobs, work)
        forked.extend(worker.pid for worker in workers)
        return workers

    monkeypatch.setattr(forkpool, "start", recording)

    def interrupt(done: int, size: int) -> None:
        if done == 12:  # past the in-process start: the pool is running
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scanner.scan_paths([str(tmp_path)], Settings(), progress=interrupt, jobs=2)
    if backend == "fork":
        assert len(forked) == 2
        for pid in forked:  # killed and reaped before the interrupt went on
            with pytest.raises(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
    deadline = time.monotonic() + 5
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []


def _pool_starts(monkeypatch: pytest.MonkeyPatch) -> List[int]:
    """Each time a scan hands its walk to worker processes, the number of jobs."""
    started: List[int] = []
    in_pool = parallel._in_pool

    def recording(targets: Any, ruleset: Any, plan: parallel.Plan) -> Any:
        started.append(plan.jobs)
        return in_pool(targets, ruleset, plan)

    monkeypatch.setattr(parallel, "_in_pool", recording)
    return started


def test_small_scans_never_start_a_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, files=20)
    started = _pool_starts(monkeypatch)
    assert scan(tmp_path, jobs=4).files == 21
    assert started == []


@pytest.mark.usefixtures("small_pool")
def test_a_long_walk_goes_to_the_pool_before_any_file_is_scanned_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(tmp_path, files=20)
    here = parallel._here
    scanned_here: List[object] = []

    def counting(target: parallel.Target, ruleset: object) -> parallel.Item:
        scanned_here.append(target)
        return here(target, ruleset)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "_here", counting)
    alone = scan(tmp_path, jobs=1)
    scanned_here.clear()
    assert comparable(scan(tmp_path, jobs=2)) == comparable(alone)
    assert scanned_here == []  # 21 files > START_FILES: every one was read by a worker


def test_a_short_walk_of_big_files_starts_the_pool_once_the_bytes_add_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "START_BYTES", 10_000)
    for i in range(6):
        (tmp_path / f"big{i}.txt").write_text(f"line {i}\n" * 2000)  # 14 KB each
    started = _pool_starts(monkeypatch)
    result = scan(tmp_path, jobs=2)
    assert started == [2]  # 6 files < START_FILES, but the first one passed START_BYTES
    assert (result.files, result.bytes) == (6, 6 * 14_000)


@pytest.mark.usefixtures("small_pool")
def test_without_process_support_the_scan_goes_on_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    make_tree(tmp_path)
    alone = scan(tmp_path, jobs=1)
    refused: List[int] = []

    def cannot(*args: object, **kwargs: object) -> None:
        refused.append(1)
        raise OSError(38, "Function not implemented")  # sem_open in some sandboxes; or fork

    if backend == "fork":
        monkeypatch.setattr(os, "fork", cannot)
    else:
        monkeypatch.setattr(multiprocessing.context.BaseContext, "SimpleQueue", cannot)
    assert comparable(scan(tmp_path, jobs=2)) == comparable(alone)
    assert refused  # workers really were attempted, and refused


def test_the_spawn_pool_is_the_stock_pool() -> None:
    """Where fork is unsafe the scan uses ``multiprocessing``'s public pool as it is: no
    subclass overriding a private method that a Python release may change."""
    pool = parallel._start_pool(2, Settings().ruleset())
    assert pool is not None
    try:
        assert type(pool) is multiprocessing.pool.Pool
        assert pool.apply(len, ([1, 2],)) == 2
    finally:
        pool.close()
        pool.join()


@pytest.mark.usefixtures("small_pool")
def test_a_scan_from_a_worker_thread_may_use_the_pool(tmp_path: Path) -> None:
    """signal.signal works only in the main thread; a library caller may be elsewhere."""
    make_tree(tmp_path)
    results: List[ScanResult] = []
    thread = threading.Thread(target=lambda: results.append(scan(tmp_path, jobs=2)))
    thread.start()
    thread.join()
    assert comparable(results[0]) == comparable(scan(tmp_path, jobs=1))


def test_plan_for_auto_uses_the_available_cores() -> None:
    assert parallel.plan_for(None).jobs == parallel.plan_for(0).jobs == parallel.auto_jobs() >= 1
    assert parallel.plan_for(3).jobs == 3


def test_ctrl_c_with_a_worker_blocked_exits_130_without_tracebacks(tmp_path: Path) -> None:
    """The terminal sends SIGINT to the whole process group; only the main process may react."""
    names = []
    for i in range(parallel.START_FILES + 1):  # enough files named explicitly to start the pool
        (tmp_path / f"f{i}.txt").write_text("x\n")
        names.append(f"f{i}.txt")
    os.mkfifo(tmp_path / "pipe")  # read by a worker, which blocks waiting for the writer's rest
    writer = connected_writer(tmp_path / "pipe", b"x")
    proc = subprocess.Popen(
        [sys.executable, "-m", "copera_secretscan", "scan", "--jobs", "2", *names, "pipe"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_until_taken(writer, 1, proc)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        os.close(writer)
    assert proc.returncode == 130
    assert b"interrupted" in err
    assert b"Traceback" not in err
