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

from .fastpath import config_may_apply, guarded, name_clean, say_clean, stream_clean

FAST_OPTIONS = {"--baseline": 1, "--quiet": 0, "-q": 0}  # options that cannot change a clean result


def main(argv: list[str] | None = None) -> int:
    return guarded(_run, argv)


def _run(args: list[str]) -> int:
    files = fast_path_files(args)
    if files is not None and all(_clean(path) for path in files):
        say_clean(args, len(files))
        return 0
    from .cli import main as cli_main

    return cli_main(["scan", *args])


def fast_path_files(args: list[str]) -> list[str] | None:
    """The file names, if nothing in ``args`` or the repository calls for the full scanner."""
    if config_may_apply(os.getcwd()):
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
    """True when ``path`` is a regular file with no anchor in it or its name; False means "look
    closer"."""
    if not name_clean(path) or not os.path.isfile(
        path
    ):  # directories, FIFOs, devices, broken links: the full scanner
        return False
    try:
        with open(path, "rb") as handle:
            return stream_clean(handle.read)
    except OSError:
        return False
