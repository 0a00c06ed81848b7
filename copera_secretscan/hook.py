"""``copera-secretscan-hook``: the pre-commit entry point, lean enough to run on every commit.

pre-commit passes the staged file names. The common case is that none of them contains the
three bytes every Copera token starts with, and proving that needs only ``os`` and
``bytes.find``: no click, no regex, no pathspec (together ~100 ms of imports on a small
machine, against a ~15 ms interpreter start). Anything else — a candidate, a config file, an
option, a directory, an unreadable file — hands the very same argument list to
``copera-secretscan scan``, so output and exit codes are identical by construction.
"""

from __future__ import annotations

import os
import sys

ANCHORS = (b"cp_",)  # rules.Ruleset().anchors() for the built-in rules; a test keeps them equal
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
FAST_OPTIONS = {"--baseline": 1, "--quiet": 0, "-q": 0}  # options that cannot change a clean result
_BLOCK = 1 << 20


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    files = fast_path_files(args)
    if files is not None and all(_clean(path) for path in files):
        if "--quiet" not in args and "-q" not in args:
            noun = "file" if len(files) == 1 else "files"
            print(f"No Copera tokens found ({len(files)} {noun} scanned).")
        return 0
    from .cli import main as cli_main

    return cli_main(["scan", *args])


def fast_path_files(args: list[str]) -> list[str] | None:
    """The file names, if nothing in ``args`` or the repository calls for the full scanner."""
    from .locate import find_config

    if find_config(os.getcwd()) is not None:
        return None
    files, i = [], 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            files.extend(args[i + 1 :])
            break
        if arg.startswith("-"):
            if arg not in FAST_OPTIONS:
                return None
            if arg == "--baseline" and not (i + 1 < len(args) and os.path.isfile(args[i + 1])):
                return None  # a missing baseline is an error the full scanner must report
            i += 1 + FAST_OPTIONS[arg]
            continue
        files.append(arg)
        i += 1
    return files


def _clean(path: str) -> bool:
    """True when ``path`` is a regular file with no anchor in it; False means "look closer"."""
    if not os.path.isfile(path):  # directories, FIFOs, devices, broken links: the full scanner
        return False
    try:
        with open(path, "rb") as handle:
            tail = b""
            head = handle.read(_BLOCK)
            if head[:2] in UTF16_BOMS:
                return False
            block = head
            while block:
                window = tail + block
                if any(anchor in window for anchor in ANCHORS):
                    return False
                tail = window[-2:]
                block = handle.read(_BLOCK)
    except OSError:
        return False
    return True
