"""What every benchmark script needs: run a command, time it, measure its memory, print a table.

Figures are ratios against a reference measured in the same run (ripgrep, a bare interpreter),
because the absolute numbers of a shared 2-core machine drift from minute to minute while the
ratios of back-to-back runs do not. Memory is sampled from /proc (see ``_MemorySampler``).
"""

from __future__ import annotations

import os
import random
import shlex
import shutil
import statistics
import string
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work" / "perf"  # gitignored; a subfolder of its own, other benchmarks share .work
BODY_CHARS = string.ascii_letters + string.digits

sys.path.insert(0, str(REPO))  # run from a checkout without installing

# pip compiles bytecode at install time; a session that sets PYTHONDONTWRITEBYTECODE would
# instead recompile every module of an editable install on every run (~60 ms here), which no
# user pays. The warm-up run writes the .pyc files.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


class MissingTool(Exception):
    """A reference program is not installed: the ratio would mean nothing without it."""


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss: int  # bytes; the largest single process (sampled VmHWM; else wait4's ru_maxrss)
    peak_tree_pss: int  # bytes; sampled sum of PSS over the child and its descendants, 0 if n/a
    returncode: int
    cpu: float = 0.0  # user + system seconds of the child (wait4): steadier than wall time


def scanner_command(*args: str) -> List[str]:
    """The console script next to this interpreter, else ``python -m copera_secretscan``."""
    script = Path(sys.executable).with_name("copera-secretscan")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "copera_secretscan", *args]


def hook_command(*args: str, python: str = sys.executable, entry: str = "") -> List[str]:
    """The commit hook as pre-commit runs it in the environment of ``python``: ``entry``, or
    this checkout's manifest entry. ``python`` in it is that interpreter; another first word
    is a script installed next to it (a console script, as the hook was before issue 14)."""
    words = shlex.split(entry or manifest_entry("copera-secretscan"))
    program = python if words[0] == "python" else str(Path(python).with_name(words[0]))
    return [program, *words[1:], *args]


def manifest_entry(hook_id: str) -> str:
    """The ``entry`` of ``hook_id`` in .pre-commit-hooks.yaml (read as text: no yaml here)."""
    lines = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8").splitlines()
    rest = lines[lines.index(f"- id: {hook_id}") :]
    return next(line.split(":", 1)[1].strip() for line in rest if line.startswith("  entry:"))


def piped(*argv: str) -> List[str]:
    """``argv | wc -l`` through a shell: a reference whose output goes to a pipe, as a
    scanner's is read (ripgrep writing to /dev/null stops at its first match)."""
    return ["sh", "-c", '"$@" | wc -l', "sh", *argv]


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise MissingTool(
            f"{tool} is required as the reference for this benchmark but was not found on PATH "
            f"(Debian/Ubuntu: apt-get install {'ripgrep' if tool == 'rg' else tool})"
        )
    return path


def run_once(cmd: Sequence[str], cwd: Optional[Path] = None, sample: bool = False) -> Run:
    """Run ``cmd``; wall time, peak RSS and (sampled) tree PSS.

    Output goes to a real file, not /dev/null: ripgrep notices /dev/null and stops at the first
    match, which would flatter the reference.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / "stdout.txt", "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=subprocess.DEVNULL, env=ENV)
        sampler = _MemorySampler(proc.pid) if sample else None
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    hwm, pss = sampler.stop() if sampler is not None else (0, 0)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, hwm or usage.ru_maxrss * 1024, pss, proc.returncode, cpu)


Job = Tuple[Sequence[str], Optional[Path]]  # a command and its working directory


def measure(jobs: Sequence[Job], runs: int, sample: bool = False) -> List[List[Run]]:
    """Each job once untimed (page cache, .pyc files), then ``runs`` rounds of one run each.

    Rounds interleave the commands, so a burst of load from elsewhere on the machine slows a
    reference and the command compared with it alike instead of skewing their ratio.
    """
    for cmd, cwd in jobs:
        run_once(cmd, cwd)
    rounds = [[run_once(cmd, cwd, sample) for cmd, cwd in jobs] for _ in range(runs)]
    return [[round_[i] for round_ in rounds] for i in range(len(jobs))]


def median_seconds(runs: Sequence[Run]) -> float:
    return statistics.median(run.seconds for run in runs)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def make_token(rng: random.Random, prefix: str = "cp_pat_", length: int = 32) -> str:
    """A fake token the engine reports (random body that passes the heuristics)."""
    from copera_secretscan.engine.heuristics import why_not_secret

    while True:
        body = "".join(rng.choice(BODY_CHARS) for _ in range(length))
        if why_not_secret(body) is None:
            return prefix + body


def mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main_guard(fn: Callable[[Optional[List[str]]], int]) -> int:
    """Turn a missing reference tool into a clear message and exit status 3."""
    try:
        return fn(None)
    except MissingTool as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3


class _MemorySampler:
    """Polls /proc every 10 ms for the child and its descendants (Linux only).

    ``hwm``: the largest VmHWM (high-water RSS) of any one of them. Unlike ``ru_maxrss`` from
    wait4, it starts afresh at exec, so it does not inherit the RSS of this (large) benchmark
    process that forked the child. ``pss``: the peak sum of PSS, which splits the pages forked
    workers share with their parent among them instead of counting them once per process.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.hwm = self.pss = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def stop(self) -> Tuple[int, int]:
        self.done.set()
        self.thread.join()
        return self.hwm, self.pss

    def _loop(self) -> None:
        while not self.done.wait(0.01):
            pids = _tree(self.pid)
            self.hwm = max([self.hwm, *(_status_kib(pid, "VmHWM:") * 1024 for pid in pids)])
            self.pss = max(self.pss, sum(_pss(pid) for pid in pids))


def _tree(root: int) -> List[int]:
    pids, i = [root], 0
    while i < len(pids):
        try:
            children = Path(f"/proc/{pids[i]}/task/{pids[i]}/children").read_text().split()
        except OSError:
            children = []
        pids.extend(int(child) for child in children)
        i += 1
    return pids


def _status_kib(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def _pss(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def ratio_row(
    name: str, seconds: float, reference: float, extra: Tuple[str, ...] = ()
) -> List[str]:
    return [name, ms(seconds), f"{seconds / reference:.2f}x", *extra]
