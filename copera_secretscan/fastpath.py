"""What the two fast paths (``hook.py``, ``entry.py``) share, with nothing but ``os`` imported.

Both answer "can this commit hold no token?" without loading the full scanner, and both must
answer it the same way: the same anchor, the same refusal of UTF-16 (whose tokens are not ASCII
bytes), the same search across read blocks, and the same config lookup as the full CLI (which
reads the config at the repository root, not in the working directory). Anything unsure is
"no": the caller then runs the full scanner, which is always right.
"""

from __future__ import annotations

import os
import sys

from . import kinds
from .config.locate import PYPROJECT, find_config, toml_module
from .sources.gitenv import work_tree_root

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import Callable, TextIO

# Every kind's prefix starts with it; rules.Ruleset().anchors() for the built-in rules, too.
_ANCHOR_TEXT = kinds.anchor()
ANCHOR = _ANCHOR_TEXT.encode("ascii")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # decoding.UTF16_BOMS, spelled without codecs
BLOCK = 1 << 20
EXIT_INTERRUPTED = 130  # cli.EXIT_INTERRUPTED, without importing click to learn it
EXIT_ERROR = 2  # cli.EXIT_ERROR


def guarded(run: Callable[[list[str]], int], argv: list[str] | None) -> int:
    """Ctrl-C is one line and 130 here too: the full CLI may still be importing when it lands."""
    try:
        return flushed(run(sys.argv[1:] if argv is None else list(argv)))
    except KeyboardInterrupt:
        say_error("interrupted")
        return EXIT_INTERRUPTED


def ambiguous(arg: str) -> bool:
    """Whether ``arg`` reads as an option (``-`` and ``--`` too) and also names a path here.

    pre-commit appends file names after the hook's arguments with no ``--``, so a committed file
    named ``--exit-zero`` would switch the gate off and ``--show-secrets`` would print tokens.
    The full CLI and both fast paths ask this one question; the CLI alone knows which arguments
    are the values of options (those are exempt), so a fast path hands any "yes" over to it.
    """
    return arg[:1] == "-" and os.path.lexists(arg)


def say_clean(args: list[str], files: int) -> int:
    """The line the text report prints for a clean scan, unless ``--quiet``; the exit code."""
    if "--quiet" not in args and "-q" not in args:
        try:
            print(f"No Copera tokens found ({files} file{'' if files == 1 else 's'} scanned).")
        except OSError as exc:
            return stdout_failed(exc)
    return flushed(0)


def flushed(code: int) -> int:
    """``code`` once standard output has taken everything, else 2: the report never arrived.

    Flushing here, before returning, leaves nothing for Python's own flush at exit to fail on
    (an "Exception ignored" message and exit 120 on a full disk).
    """
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError as exc:
        return stdout_failed(exc)
    return code


def stdout_failed(exc: OSError) -> int:
    """Exit 2 for a report standard output would not take: one line, unless the reader left
    (``| head``), which expects silence."""
    discard(sys.stdout)
    if not isinstance(exc, BrokenPipeError):
        say_error(f"error: cannot write to standard output: {exc.strerror or exc}")
    return EXIT_ERROR


def say_error(message: str) -> None:
    """One ``copera-secretscan: …`` line on stderr, even when stderr is full or gone."""
    try:
        if sys.stderr is not None:
            print(f"copera-secretscan: {message}", file=sys.stderr, flush=True)
    except OSError:
        discard(sys.stderr)  # the exit code is all that can still tell


def discard(stream: TextIO | None) -> None:
    """Point ``stream``'s descriptor at the null device, so what it still buffers goes nowhere
    instead of failing again when Python flushes it at exit."""
    if stream is None:
        return
    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):  # no descriptor (a test's capture: UnsupportedOperation), closed
        return
    os.dup2(null, fd)
    os.close(null)


def name_clean(path: str) -> bool:
    """True when a path cannot hold a token: git stores names too (names.py)."""
    return _ANCHOR_TEXT not in path


def stream_clean(read: Callable[[int], bytes], size: int = -1) -> bool:
    """True when ``size`` bytes (-1: up to the end) from ``read`` hold no anchor and no BOM.

    A short stream (fewer than ``size`` bytes) is not clean: something went wrong and the full
    scanner should say what. The last bytes of each block are kept so an anchor split across
    two reads is still seen.
    """
    tail, first, left = b"", True, size
    while left:
        block = read(BLOCK if left < 0 else min(left, BLOCK))
        if not block:
            return left < 0
        if (first and block[:2] in UTF16_BOMS) or ANCHOR in tail + block:
            return False
        tail, first = (tail + block)[1 - len(ANCHOR) :], False
        left = left - len(block) if left > 0 else left
    return True


def config_may_apply(start: str) -> bool:
    """Whether the full CLI might read a config when run from ``start``.

    The CLI reads the config at ``git rev-parse --show-toplevel``, else in ``start``. Every
    directory from ``start`` up to the nearest ``.git`` is checked, so a git that stops its own
    search earlier (a ceiling directory, say) still cannot make us miss the one it reads; up to
    the repository above, when that ``.git`` is debris git walks past (an empty ``.git/``).
    """
    here = os.path.abspath(start)
    root = work_tree_root(here, repository=True) or work_tree_root(here) or here
    while True:
        found = find_config(here)
        if found is not None and (not found.endswith(PYPROJECT) or _has_our_table(found)):
            return True
        parent = os.path.dirname(here)
        if here == root or parent == here:
            return False
        here = parent


def _has_our_table(pyproject: str) -> bool:
    """Whether a pyproject that names us really has ``[tool.copera-secretscan]``.

    Many do not: our own package name, a dev dependency, a console script. Parsing costs far
    less than the full scanner that a "maybe" would load; any doubt (a parse
    error, a strange ``tool``) is a "yes", and the full scanner then says what is wrong.
    """
    try:
        with open(pyproject, "rb") as handle:
            tool = toml_module().loads(handle.read().decode("utf-8")).get("tool", {})
    except Exception:  # whatever hostile bytes make the parser raise (RecursionError too): doubt
        return True
    return not isinstance(tool, dict) or "copera-secretscan" in tool
