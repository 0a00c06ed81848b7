"""Hook latency: ``copera-secretscan-hook`` on staged-size files, against ``python -c pass``.

    python benchmarks/bench_hook.py --runs 50 [--before /path/to/other/venv/bin/python]

A pre-commit hook runs on every commit, so its cost is mostly interpreter start-up. Issue 14's
targets, each a median ratio to a bare ``python -c pass`` of the same interpreter: at most
1.25x on 10 files of 2-20 KB with no token, at most 2.0x on one such file that holds a
harmless ``cp_`` (``tcp_keepalive``, ``scp_``, a placeholder: words the engine dismisses). The
runs alternate (reference, clean, harmless, dirty, reference, ...) so that load from other
processes on a shared machine falls on every command alike. "dirty" is the same 10 files with
a token in one: the hook then loads the full scanner (click and all) to report it. "cpu vs
python" is the same ratio of user + system time, which load from other processes moves less.

The hook is run as pre-commit runs it: this checkout's manifest entry, in the environment of
the interpreter running the benchmark. ``--before PY`` adds the same scenarios in another
environment (a venv of the code before a change, whose manifest entry ``--before-entry`` gives:
by default the console script it had), each against that interpreter's own ``python -c
pass``, interleaved in the same rounds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from _common import WORK, hook_command, main_guard, make_token, ms, print_table, run_once
from bench_memory import source_text

FILES = 10
HARMLESS = (
    b"\nsock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # tcp_keepalive\n"
    b"scp_target = 'host:/srv'\ntcp_nodelay = True\nEXAMPLE = 'cp_pat_your_token_here'\n"
)


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


def build_harmless(root: Path) -> List[str]:
    """One file of the clean set with words that hold ``cp_`` but are no token."""
    name = build_files(root, False)[0]
    path = root / name
    path.write_bytes(path.read_bytes() + HARMLESS)
    return [name]


Commands = Dict[str, Tuple[List[str], Path, str]]  # name -> (command, cwd, its reference)


def commands(work: Path, before: Optional[str], before_entry: str) -> Commands:
    clean, harmless, dirty = work / "hook-clean", work / "hook-harmless", work / "hook-dirty"
    scenarios = {
        "10 clean files": (build_files(clean, False), clean),
        "1 file with a harmless cp_": (build_harmless(harmless), harmless),
        "1 of 10 with a token": (build_files(dirty, True), dirty),
    }
    found: Commands = {}
    runs = [(sys.executable, "", "")] + ([(before, " (before)", before_entry)] if before else [])
    for python, label, entry in runs:
        reference = f"python -c pass{label}"
        found[reference] = ([python, "-c", "pass"], clean, reference)
        for scenario, (names, cwd) in scenarios.items():
            command = hook_command(*names, python=python, entry=entry)
            found[f"hook, {scenario}{label}"] = (command, cwd, reference)
    return found


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per command (median)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first")
    parser.add_argument("--work", type=Path, default=WORK, help="where generated data goes")
    parser.add_argument("--before", metavar="PY", help="another interpreter's hook, compared")
    parser.add_argument(
        "--before-entry", default="copera-secretscan-hook", help="the hook's entry there"
    )
    args = parser.parse_args(argv)
    table = commands(args.work, args.before, args.before_entry)
    times: Dict[str, List[float]] = {name: [] for name in table}
    cpu: Dict[str, List[float]] = {name: [] for name in table}
    codes: Dict[str, int] = {}
    for i in range(args.warmup + args.runs):
        for name, (cmd, cwd, _) in table.items():
            run = run_once(cmd, cwd)
            codes[name] = run.returncode
            if i >= args.warmup:
                times[name].append(run.seconds)
                cpu[name].append(run.cpu)
    rows = []
    for name, values in times.items():
        reference = table[name][2]
        median = statistics.median(values)
        ratio = median / statistics.median(times[reference])
        cpu_ratio = statistics.median(cpu[name]) / statistics.median(cpu[reference])
        spread = f"{ms(min(values))} .. {ms(max(values))}"
        row = [name, ms(median), f"{ratio:.2f}x", f"{cpu_ratio:.2f}x", spread, str(codes[name])]
        rows.append(row)
    title = f"Hook latency: median of {args.runs} alternating runs ({sys.executable})"
    header = ["command", "median", "vs python", "cpu vs python", "min .. max", "exit"]
    print_table(title, header, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_guard(main))
