"""``copera-secretscan-hook``: the pre-commit entry point, lean enough to run on every commit.

pre-commit passes the staged file names. The common case is that none of them contains the
three bytes every Copera token starts with, and proving that needs only ``os`` and
``bytes.find``: no click, no regex, no pathspec (their imports together cost several times an
interpreter start; benchmarks/bench_hook.py measures the hook). Anything else — a candidate, a
config file, an option, a file named like an option, a directory, an unreadable file — hands
the very same argument list to ``copera-secretscan scan``, so output and exit codes are
identical by construction. Given no file names at all (``pass_filenames: false``), the hook
scans the index, as ``scan --staged`` would: a hook that scanned nothing must not say "Passed".
"""

from __future__ import annotations

import os
import stat

from .fastpath import ambiguous, config_may_apply, guarded, name_clean, say_clean, stream_clean
from .sources.readfile import READ_FLAGS

FAST_OPTIONS = {"--baseline": 1, "--quiet": 0, "-q": 0}  # options that cannot change a clean result


def main(argv: list[str] | None = None) -> int:
    return guarded(_run, argv)


def _run(args: list[str]) -> int:
    files = fast_path_files(args)
    if files == []:  # no file names (``pass_filenames: false``): what the commit holds is the index
        from .entry import staged_clean_count

        count = staged_clean_count()
        if count is not None:
            return say_clean(args, count)
    elif files is not None and all(_clean(path) for path in files):
        return say_clean(args, len(files))
    from .cli.main import hook_argv
    from .cli.main import main as cli_main

    return cli_main(hook_argv(args))


def fast_path_files(args: list[str]) -> list[str] | None:
    """The file names, if nothing in ``args`` or the repository calls for the full scanner."""
    if config_may_apply(os.getcwd()):
        return None
    files, i = [], 0
    while i < len(args):
        arg = args[i]
        if ambiguous(arg):
            return None  # a file named like an option: the full CLI refuses it, in one place
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
    """True when ``path`` is a regular file with no anchor in it or its name (git stores names
    too); False means "look closer".

    Directories, FIFOs, devices and symbolic links (git commits a link's text, not what it
    leads to) go to the full scanner, which knows what each one means. The type is checked
    before opening (opening a device can act on it) and again on what was opened, without
    blocking, in case a FIFO was swapped in between.
    """
    try:
        if not name_clean(path) or not stat.S_ISREG(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    try:
        fd = os.open(path, READ_FLAGS)  # never blocks: a FIFO swapped in after the check
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and stream_clean(lambda n: os.read(fd, n))
    except OSError:
        return False
    finally:
        os.close(fd)
