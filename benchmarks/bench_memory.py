"""Memory: peak RSS of ``copera-secretscan scan`` on one huge file and on a tree of many files.

    python benchmarks/bench_memory.py --big-mb 2048 --files 100000

The huge file is real source text (this interpreter's stdlib ``.py`` files, repeated, with a
token every 256 MiB); the scanner must stream it in bounded windows, and its time is compared
with ``rg --no-mmap -a -F cp_``, which also reads it through a buffer. The tree of small files
(slices of the same source) checks that neither the walk nor the worker pool holds the whole
tree in memory. Peak RSS is the high-water mark (VmHWM) of the largest single process, the
scanner or one of its workers; "tree PSS" is the peak of all of them together, with the pages
they share counted once. Both are sampled from /proc every 10 ms.
"""

from __future__ import annotations

import argparse
import random
import sysconfig
from pathlib import Path
from typing import List, Optional

from _common import (
    WORK,
    main_guard,
    make_token,
    measure,
    median_seconds,
    mib,
    print_table,
    require,
    run_once,
    scanner_command,
)
from bench_scan import source_files

BLOCK = 4 << 20
TOKEN_EVERY = 256 << 20


def source_text(rng: random.Random, size: int) -> bytes:
    """``size`` bytes of real Python source (this interpreter's stdlib), from a random place.

    Made-up text misleads: how fast a literal search runs depends on how often the pattern's
    letters occur, so the data is the kind of text the scanner meets.
    """
    corpus = _corpus()
    start = rng.randrange(0, len(corpus) - size) if size < len(corpus) else 0
    return (corpus * (1 + size // len(corpus)))[start : start + size]


_CORPUS: List[bytes] = []


def _corpus(limit: int = 8 << 20) -> bytes:
    """The first ``limit`` bytes of the stdlib's ``.py`` files, in a stable order."""
    if not _CORPUS:
        parts, total = [], 0
        for path, _ in source_files(Path(sysconfig.get_paths()["stdlib"])):
            if path.suffix == ".py" and total < limit:
                parts.append(path.read_bytes())
                total += len(parts[-1])
        _CORPUS.append(b"".join(parts)[:limit])
    return _CORPUS[0]


def build_big_file(path: Path, size_mb: int) -> int:
    """One file of ``size_mb`` MiB: a block of text repeated, tokens planted every 256 MiB."""
    stamp = path.with_suffix(".complete")
    size = size_mb << 20
    if stamp.exists() and path.exists() and path.stat().st_size == size:
        return int(stamp.read_text())
    rng = random.Random(3)
    block = source_text(rng, BLOCK)
    path.parent.mkdir(parents=True, exist_ok=True)
    planted = 0
    with open(path, "wb") as out:
        for offset in range(0, size, BLOCK):
            chunk = block[: size - offset]
            if offset % TOKEN_EVERY == 0:
                line = f"\nTOKEN = '{make_token(rng)}'\n".encode()
                chunk = chunk[: len(chunk) // 2] + line + chunk[len(chunk) // 2 + len(line) :]
                planted += 1
            out.write(chunk[: size - offset])
    stamp.write_text(str(planted))
    return planted


def build_many_files(root: Path, count: int, per_dir: int = 1000) -> int:
    """``count`` files of 0.5-4 KB in directories of ``per_dir``; a token in every 10,000th."""
    stamp = root / ".bench-complete"
    if stamp.exists() and stamp.read_text() == str(count):
        return count
    rng = random.Random(4)
    text = source_text(rng, 1 << 20)
    for i in range(count):
        directory = root / f"pkg{i // per_dir:04d}"
        if i % per_dir == 0:
            directory.mkdir(parents=True, exist_ok=True)
        start = rng.randrange(0, len(text) - 4096)
        body = text[start : start + rng.randint(512, 4096)]
        if i % 10_000 == 5:
            body += f"\nKEY = '{make_token(rng, 'cp_key_')}'\n".encode()
        (directory / f"mod{i}.py").write_bytes(body)
    stamp.write_text(str(count))
    return count


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big-mb", type=int, default=2048, help="huge file size (MiB)")
    parser.add_argument("--files", type=int, default=100_000, help="files in the tree")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (median)")
    parser.add_argument("--work", type=Path, default=WORK, help="where generated data goes")
    parser.add_argument("--before", metavar="BIN", help="another copera-secretscan to compare")
    args = parser.parse_args(argv)
    rg = require("rg")
    big = args.work / f"big-{args.big_mb}mb.src"
    planted = build_big_file(big, args.big_mb)
    cases = [
        (f"rg --no-mmap, {args.big_mb} MiB file", [rg, "--no-mmap", "-a", "-F", "cp_", str(big)]),
        (f"scan, {args.big_mb} MiB file", scanner_command("scan", "-q", str(big))),
    ]
    if args.before is not None:
        cases.append(("  before: scan, same file", [args.before, "scan", "-q", str(big)]))
    if args.files:  # --files 0: the big file alone
        many = args.work / f"many-{args.files}-src"
        build_many_files(many, args.files)
        cases.append((f"rg -uu, {args.files:,} files", [rg, "-a", "-uu", "-F", "cp_", str(many)]))
        cases.append((f"scan, {args.files:,} files", scanner_command("scan", "-q", str(many))))
    timed = measure([(cmd, None) for _, cmd in cases], args.runs)
    rows, reference = [], 0.0
    for (name, cmd), results in zip(cases, timed):
        seconds = median_seconds(results)
        reference = seconds if name.startswith("rg") else reference
        sampled = run_once(cmd, sample=True)  # untimed: sampling /proc costs CPU
        ratio = f"{seconds / reference:.2f}x"
        pss = mib(sampled.peak_tree_pss) if sampled.peak_tree_pss else "n/a"
        rows.append([name, f"{seconds:.3f} s", ratio, mib(sampled.peak_rss), pss])
    title = f"Memory: median of {args.runs} warm runs; {planted} tokens planted in the big file"
    print_table(title, ["command", "median", "vs rg", "peak RSS", "tree PSS"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_guard(main))
