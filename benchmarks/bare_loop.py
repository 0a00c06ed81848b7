"""A yardstick for any pure-Python scanner: the issue's bare stdlib loop, on two processes.

    python benchmarks/bare_loop.py TREE

``os.walk``, ``bytes.find(b"cp_")``, an anchored match where it hits, nothing else: no ignore
rules, no heuristics, no line numbers, no report. The issue measured this loop (two processes)
at 5.4x ripgrep; ``bench_scan.py`` runs it beside our scanner so that our ratio can be read
against what CPython itself costs on the same tree, in the same run.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys

TOKEN = re.compile(rb"cp_(?:pat|key|oat)_[A-Za-z0-9_-]{16,}")


def scan_file(path: str) -> int:
    """Tokens in one file (0 for a file that cannot be read: the loop has no error report)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return 0
    found, start = 0, data.find(b"cp_")
    while start >= 0:
        if TOKEN.match(data, start):
            found += 1
        start = data.find(b"cp_", start + 1)
    return found


def main(top: str) -> int:
    paths = [os.path.join(d, name) for d, _, names in os.walk(top) for name in names]
    with multiprocessing.get_context("fork").Pool(2) as pool:  # chunks balance the two
        found = sum(pool.imap_unordered(scan_file, paths, chunksize=64))
    print(f"{found} candidate tokens in {len(paths)} files")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
