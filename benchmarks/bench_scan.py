"""Throughput: ``copera-secretscan scan`` over a large source tree, against ``rg -a -uu -F cp_``.

    python benchmarks/bench_scan.py --size-mb 320

The tree is copies of this interpreter's standard library *with* its ``__pycache__`` (so there
are binary files), plus a ``.gitignore`` that matches nothing (so the ignore machinery runs but
both tools read the same files) and a few planted tokens (so both tools have matches to report).
It is built once under ``benchmarks/.work/`` and reused. Variants: the default (auto jobs), one
process (``--jobs 1``), the same tree as a git work tree with every file tracked (the walker
then asks git which files are tracked), and ``bare_loop.py``, the issue's stdlib-only loop on
two processes: a yardstick for what CPython alone costs on this tree. Each timing is the median
of ``--runs`` runs after one untimed warm-up run, so the page cache is warm for every tool
alike; the runs of the variants are interleaved, round by round.

A second table gives the fixed cost: ``scan`` of a directory of one small file against the
scanner's own interpreter doing nothing (``python -c pass``). ``--before BIN`` adds the same
rows for another installed scanner (e.g. a virtualenv of the main branch), in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from _common import (
    HERE,
    WORK,
    main_guard,
    make_token,
    measure,
    median_seconds,
    mib,
    print_table,
    ratio_row,
    require,
    run_once,
    scanner_command,
)

GITIGNORE = (
    "# matches nothing in the copied tree: the rules are read and applied, no file skipped\n"
)
GITIGNORE += "*.log\n/build/\nnode_modules/\n.venv/\n"
PLANTED = 12


def build_tree(dest: Path, size_mb: float, source: Optional[Path] = None) -> Tuple[int, int]:
    """Copy ``source`` (the stdlib) into ``dest`` until it holds ``size_mb``; (files, bytes).

    Reuses a finished tree of the same size; a half-built one (no stamp) is rebuilt.
    """
    stamp = dest / ".bench-complete"
    if stamp.exists():
        files, size = (int(x) for x in stamp.read_text().split())
        return files, size
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    (dest / ".gitignore").write_text(GITIGNORE)
    files, size = _plant_tokens(dest)
    limit = int(size_mb * 1e6)
    for copy in range(1_000_000):
        for path, rel in source_files(source or _stdlib()):
            if size >= limit:
                stamp.write_text(f"{files} {size}")
                return files, size
            target = dest / f"copy{copy}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            files, size = files + 1, size + target.stat().st_size
    raise AssertionError("unreachable")


def _stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def source_files(root: Path) -> Iterator[Tuple[Path, Path]]:
    """Regular files under ``root`` in a stable order, without installed third-party packages."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "dist-packages"))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                yield path, path.relative_to(root)


def _plant_tokens(dest: Path) -> Tuple[int, int]:
    rng = random.Random(2)
    (dest / "planted").mkdir()
    size = 0
    for i in range(PLANTED):
        path = dest / "planted" / f"settings_{i}.env"
        path.write_text(f"# config {i}\nCOPERA_TOKEN={make_token(rng)}\nDEBUG=0\n")
        size += path.stat().st_size
    return PLANTED, size + len(GITIGNORE)


def git_copy(tree: Path) -> Path:
    """The same tree as a git work tree with every file in the index (built once)."""
    dest = tree.with_name(tree.name + "-git")
    stamp = dest / ".git" / "bench-complete"
    if stamp.exists():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(tree, dest)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    for args in (["init", "-q"], ["-c", "core.compression=0", "add", "-A"]):
        subprocess.run(["git", *args], cwd=dest, check=True, env=env)
    stamp.write_text("ok")
    return dest


def benchmark(
    tree: Path, runs: int, git_tree: Optional[Path], before: Optional[str] = None
) -> List[List[str]]:
    """Time rg and our scanner on ``tree`` (and its git copy); rows for the table."""
    rg = [require("rg"), "-a", "-uu", "-F", "cp_", "."]
    variants = [("rg -a -uu -F cp_", rg, tree)]
    variants.append(("copera-secretscan scan", scanner_command("scan", "-q", "."), tree))
    if before is not None:
        variants.append(("  before: scan", [before, "scan", "-q", "."], tree))
    variants.append(("  ... --jobs 1", scanner_command("scan", "-q", "--jobs", "1", "."), tree))
    if git_tree is not None:
        variants.append(("  ... in a git work tree", scanner_command("scan", "-q", "."), git_tree))
    bare = [sys.executable, str(HERE / "bare_loop.py"), "."]
    variants.append(("bare Python loop, 2 processes", bare, tree))  # the yardstick
    size = _tree_bytes(tree)
    rows, reference = [], 0.0
    timed = measure([(cmd, cwd) for _, cmd, cwd in variants], runs)
    for (name, cmd, cwd), results in zip(variants, timed):
        seconds = median_seconds(results)
        reference = reference or seconds
        peak = run_once(cmd, cwd, sample=True).peak_rss  # untimed: sampling costs CPU
        rows.append(
            [
                name,
                f"{seconds:.3f} s",
                f"{size / seconds / 1e6:.0f} MB/s",
                f"{seconds / reference:.2f}x",
                mib(peak),
                str(results[0].returncode),
            ]
        )
    return rows


def fixed_cost(work: Path, runs: int, before: Optional[str] = None) -> List[List[str]]:
    """``scan`` of one small file against the interpreter doing nothing: what every scan pays
    before its first byte (imports, settings, the walk's set-up, the report)."""
    tiny = work / "tiny"
    tiny.mkdir(parents=True, exist_ok=True)
    (tiny / "notes.txt").write_text("nothing to see here\n")
    python = str(Path(scanner_command()[0]).with_name("python"))
    if not Path(python).exists():
        python = sys.executable
    variants = [("python -c pass", [python, "-c", "pass"])]
    variants.append(("copera-secretscan scan TINY", scanner_command("scan", "-q", ".")))
    if before is not None:
        variants.append(("  before: scan TINY", [before, "scan", "-q", "."]))
    timed = measure([(cmd, tiny) for _, cmd in variants], runs)
    reference = median_seconds(timed[0])
    rows = []
    for (name, _), results in zip(variants, timed):
        seconds = median_seconds(results)
        above = f"+{(seconds - reference) * 1000:.1f} ms"
        rows.append(ratio_row(name, seconds, reference, (above, str(results[0].returncode))))
    return rows


def _tree_bytes(tree: Path) -> int:
    return int((tree / ".bench-complete").read_text().split()[1])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float, default=320.0, help="tree size (default 320)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per variant (median)")
    parser.add_argument("--no-git", action="store_true", help="skip the git work tree variant")
    parser.add_argument("--work", type=Path, default=WORK, help="where generated data goes")
    parser.add_argument("--before", metavar="BIN", help="another copera-secretscan to compare")
    parser.add_argument("--fixed-runs", type=int, default=20, help="rounds of the fixed cost")
    args = parser.parse_args(argv)
    require("rg")
    tree = args.work / f"tree-{args.size_mb:g}mb"
    files, size = build_tree(tree, args.size_mb)
    git_tree = None if args.no_git else git_copy(tree)
    rows = benchmark(tree, args.runs, git_tree, args.before)
    header = ["command", "median", "throughput", "vs rg", "peak RSS", "exit"]
    title = f"Throughput: {files:,} files, {size / 1e6:,.0f} MB, median of {args.runs} warm runs"
    print_table(title, header, rows)
    if args.fixed_runs:
        rows = fixed_cost(args.work, args.fixed_runs, args.before)
        title = f"Fixed cost: one small file, median of {args.fixed_runs} interleaved runs"
        print_table(title, ["command", "median", "vs python", "above python", "exit"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_guard(main))
