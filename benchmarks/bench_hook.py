"""Hook latency: ``copera-secretscan-hook`` on 10 staged-size files, against ``python -c pass``.

    python benchmarks/bench_hook.py --runs 50

A pre-commit hook runs on every commit, so its cost is mostly interpreter start-up. The target
is a median at most 3x a bare ``python -c pass`` of the same interpreter, on 10 files of 2-20 KB
with no token. The runs alternate (reference, clean, dirty, reference, ...) so that load from
other processes on a shared machine falls on every command alike. "dirty" is the same 10 files
with a token in one: the hook then loads the full scanner (click and all) to report it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional

from _common import WORK, hook_command, main_guard, make_token, ms, print_table, run_once
from bench_memory import source_text

FILES = 10


def build_files(root: Path, with_token: bool) -> List[str]:
    """10 files of 2-20 KB (names relative to ``root``); one carries a token if asked."""
    rng = random.Random(5)
    root.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(FILES):
        body = source_text(rng, rng.randint(2_000, 20_000)).replace(b"cp_", b"cq_")  # `tcp_`
        if with_token and i == FILES // 2:
            body += f"\nAPI_TOKEN = '{make_token(rng)}'\n".encode()
        (root / f"module_{i}.py").write_bytes(body)
        names.append(f"module_{i}.py")
    return names


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per command (median)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first")
    parser.add_argument("--work", type=Path, default=WORK, help="where generated data goes")
    args = parser.parse_args(argv)
    clean, dirty = args.work / "hook-clean", args.work / "hook-dirty"
    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], clean),
        "hook, 10 clean files": (hook_command(*build_files(clean, False)), clean),
        "hook, 1 of 10 with a token": (hook_command(*build_files(dirty, True)), dirty),
    }
    times: Dict[str, List[float]] = {name: [] for name in commands}
    codes: Dict[str, int] = {}
    for i in range(args.warmup + args.runs):
        for name, (cmd, cwd) in commands.items():
            run = run_once(cmd, cwd)
            codes[name] = run.returncode
            if i >= args.warmup:
                times[name].append(run.seconds)
    reference = statistics.median(times["python -c pass"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        spread = f"{ms(min(values))} .. {ms(max(values))}"
        rows.append([name, ms(median), f"{median / reference:.2f}x", spread, str(codes[name])])
    title = f"Hook latency: median of {args.runs} alternating runs ({sys.executable})"
    print_table(title, ["command", "median", "vs python", "min .. max", "exit"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_guard(main))
