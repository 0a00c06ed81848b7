"""How a run ends on the console: the exit codes, one-line errors, the clean line, and what to
do when standard output or standard error fail. Nothing but ``os`` and ``sys``.

The full CLI and the lean hook check (:mod:`.quick`) both end here, so a run says and returns
the same thing whichever of them answered; the lean check must not load click to learn a code.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import TextIO

PROG = "copera-secretscan"
# What ``--help`` and usage errors call the other entry points: the name the user ran.
HOOK_PROG = "copera-secretscan-hook"
MODULE_PROG = "python -m copera_secretscan"
EXIT_OK = 0
EXIT_FOUND = 1  # tokens found
EXIT_ERROR = 2  # an error, or a scan that could not read everything
EXIT_INTERRUPTED = 130  # Ctrl-C: never click's 1, which a CI gate would read as "tokens found"


def tolerant_streams() -> None:
    """Standard output and error escape what their encoding cannot take (``\\u2026``)
    instead of raising. A report says "…" and "→" and names files as the user named them, and
    an output that cannot take them is common: a Windows pipe or log file is cp1252, a
    container may set ``PYTHONIOENCODING``. A traceback there would end a scan with click's
    exit 1 or Python's, whatever the scan found."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            try:  # noqa: SIM105 (contextlib is not loaded on the hook's path: no suppress)
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # closed, or not a text wrapper after all
                pass


def plural(count: int, noun: str, many: str = "") -> str:
    """``1 token``, ``2 tokens``, ``8,240 file versions``: every count a report states is said
    here, so no report makes its own plural ("1 real leaks"). ``many`` for an irregular noun."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


def files_scanned(files: int, suppressed: int = 0, unit: str = "file") -> str:
    """``N files scanned``, with ``, M allowed`` when the allow-list or baseline hid some.
    ``unit`` is ``file version`` for a scan of git commits, where one path counts per version."""
    said = f"{plural(files, unit)} scanned"
    return f"{said}, {suppressed} allowed" if suppressed else said


def found_line(tokens: int, places: int, scanned: str, detail: str = "") -> str:
    """The one count phrase of a scan that found tokens, in every format that states counts:
    tokens (distinct, what to revoke), places (the files and messages holding them)."""
    found = f"Found {plural(tokens, 'Copera token')} in {plural(places, 'place')}"
    return f"{found}{': ' + detail if detail else ''} ({scanned})."


def under_pre_commit() -> bool:
    """pre-commit runs a hook once per batch of files and shows every batch's output when one
    fails, so a clean batch must say nothing: pre-commit sets ``PRE_COMMIT=1`` for its hooks."""
    return os.environ.get("PRE_COMMIT") == "1"


def clean_line(files: int, suppressed: int = 0, unit: str = "file") -> str:
    """What a clean, complete scan says in the text report."""
    return f"No Copera tokens found ({files_scanned(files, suppressed, unit)})."


def interrupted() -> int:
    """Ctrl-C: one line and 130, wherever it lands (the CLI may still be importing)."""
    say_error("interrupted")
    return EXIT_INTERRUPTED


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
            print(f"{PROG}: {message}", file=sys.stderr, flush=True)
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
