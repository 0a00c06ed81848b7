"""The lean pre-commit check: both console scripts start here, and most commits end here.

The common answer on a commit is "no file holds the three bytes every Copera token starts
with", and proving it needs no click, no regex and no pathspec (their imports together cost
several times an interpreter start; ``benchmarks/bench_hook.py`` measures the hook). This module
owns no facts: the anchor comes from :mod:`.kinds`, the UTF-16 BOMs from ``engine.decoding``,
archive magic from ``engine.magic``, the argument grammar from :mod:`.argv`, git from
``sources.gitenv``, the config lookup from ``config.locate``, exit codes and the clean line
from :mod:`.console`. It only skips work.

It answers for this subset of arguments, read by :func:`.argv.read_args` with :data:`SUBSET`::

    copera-secretscan-hook [-q|--quiet] [-b|--baseline FILE] [--staged] [--] [FILE...]
    copera-secretscan scan --staged [-q|--quiet] [-b|--baseline FILE]

The hook given no file names (``pass_filenames: false``) checks the index, as ``scan --staged``
would: a hook that checked nothing must not say "Passed". A file whose only anchors are plain
words like ``tcp_keepalive`` is asked of the engine itself (:func:`dismissed`), not of the CLI:
click and the reports load only to report. Anything else — another option or command, a
candidate the engine does not dismiss, a config that may apply, a file named like an option, a
directory, an unreadable file, a git error — runs the full CLI with the very same arguments,
so output and exit codes are identical by construction.

``copera-secretscan scan [-q|--quiet] [-b|--baseline FILE] [--] [PATH...]`` (no config that
may apply) is walked here by the pipeline itself, without click (:func:`walked`): a complete
walk with nothing to warn of prints the text report itself, clean or not (:func:`said`); any
other result is handed to the full CLI already scanned, which reports it as it reports its own.
"""

from __future__ import annotations

import os
import stat
import sys

from . import kinds
from .argv import ambiguous, read_args
from .config.locate import PYPROJECT, find_config, pyproject_table, toml_module
from .console import (
    PROG,
    clean_line,
    flushed,
    interrupted,
    stdout_failed,
    tolerant_streams,
    under_pre_commit,
)
from .engine.decoding import (
    ESCAPE_INTRODUCERS,
    UTF8_BOM,
    UTF16_BOMS,
    disguise_literals,
    hex_pair,
)
from .engine.magic import archive_kind
from .sources.gitenv import (
    STAGED_DIFF,
    batch_header,
    run_git,
    staged_entries,
    start_git,
    work_tree_root,
)
from .sources.readfile import READ_FLAGS

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import IO, Callable

    from .argv import ArgScan, Arity
    from .models import ScanResult

# Options that cannot turn a clean result into another; tests/test_quick.py checks each against
# click's ``scan`` command, so the subset cannot drift from the full CLI.
SUBSET: Arity = {
    "--baseline": ("baseline_file", 1),
    "-b": ("baseline_file", 1),
    "--quiet": ("quiet", 0),
    "-q": ("quiet", 0),
    "--staged": ("staged", 0),
}
BASELINE = SUBSET["--baseline"][0]
ANCHOR_TEXT = kinds.anchor()
ANCHOR = ANCHOR_TEXT.encode("ascii")
# The anchor, and every literal a disguise finder of the full scanner starts from (base64,
# escapes, entities, UTF-16/32): a file with one of these goes to the full scanner, which
# decodes the run around it. The hex pair of a fully escaped prefix is checked apart.
DISGUISES = disguise_literals(ANCHOR)
ANCHORS = (ANCHOR, *DISGUISES)
HEX_PAIR = hex_pair(ANCHOR)


# Bytes that most text never holds. One ``in`` for a single byte runs at memory speed
# (memchr), against about 1.5 GB/s for any longer literal: a literal that holds one of these is
# looked for only in a window that holds it too (the UTF-16/32 images hold NUL, entities "&").
GATES = (b"\x00", b"&")


def _by_lead(literals: tuple[bytes, ...]) -> dict[bytes, tuple[bytes, ...]]:
    """The literals grouped by what is searched for first: a gate byte they hold (GATES), or
    their first two bytes where several share them (``cp%``, ``cp&``… share one search for
    ``cp``), or else the whole literal, whose search is the fastest of all."""
    groups: dict[bytes, tuple[bytes, ...]] = {}
    for literal in literals:
        lead = next((gate for gate in GATES if gate in literal), literal[:2])
        groups[lead] = (*groups.get(lead, ()), literal)
    return {
        group[0] if len(group) == 1 and lead not in GATES else lead: group
        for lead, group in groups.items()
    }


LEADS = _by_lead(DISGUISES)
KEEP = max(map(len, ANCHORS)) - 1  # bytes of a block kept for an anchor split across reads
BLOCK = 1 << 20
HELD = 4 << 20  # a larger file with a plain anchor goes to the full scanner, which streams it
MAX_BLOBS = 1000  # ids we can write to cat-file's stdin before reading without a feeder thread


def hook_main(argv: list[str] | None = None) -> int:
    """``copera-secretscan-hook``: pre-commit passes the staged file names, or none."""
    return _guarded(_hook, argv)


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """``copera-secretscan`` (``prog``: what the CLI calls itself, ``python -m
    copera_secretscan`` for ``__main__``): ``scan --staged`` answered and ``scan PATH...``
    walked here when they can be, else the CLI."""
    return _guarded(lambda args: _main(args, prog), argv)


def _guarded(run: Callable[[list[str]], int], argv: list[str] | None) -> int:
    tolerant_streams()
    try:
        return flushed(run(sys.argv[1:] if argv is None else list(argv)))
    except KeyboardInterrupt:
        return interrupted()


def _hook(args: list[str]) -> int:
    code = answer(args, staged_only=False)
    if code is not None:
        return code
    with_site()
    from .cli.main import hook_main as cli_hook_main

    return cli_hook_main(args)


def _main(args: list[str], prog: str) -> int:
    scan = plan(args[1:]) if args[:1] == ["scan"] else None
    ready: ScanResult | None = None
    code: int | None = None
    if scan is not None and "staged" in scan.options:
        code = answered(scan)
    elif scan is not None:
        ready = walked(scan)
        code = None if ready is None else said(ready, quiet="quiet" in scan.options)
    if code is not None:
        return code
    with_site()
    from .cli.main import main as cli_main

    return cli_main(args, prog, ready=ready)


def with_site() -> None:
    """The hook's manifest entry starts Python without ``site`` (``-S``: a sixth of a clean
    check) and puts only the environment's site-packages on the path. The full CLI and its
    dependencies run as the environment set them up: its ``.pth`` files, its platform library
    directory, the user's site-packages where the interpreter allows them."""
    if sys.flags.no_site and "site" not in sys.modules:
        import site

        site.main()


def answer(args: list[str], staged_only: bool) -> int | None:
    """The exit code of a clean run, said as the full CLI says it; None: ask the CLI."""
    scan = plan(args, staged_only)
    return None if scan is None else answered(scan)


def answered(scan: ArgScan) -> int | None:
    """:func:`answer` for arguments :func:`plan` accepted: named files, or the index."""
    if scan.paths:
        clean = all(file_clean(path) for path in scan.paths)
        count: int | None = len(scan.paths) if clean else None
    else:
        count = staged_clean_count()
    return None if count is None else say_clean(count, quiet="quiet" in scan.options)


def plan(args: list[str], staged_only: bool = False) -> ArgScan | None:
    """``args`` read with :data:`SUBSET`, when the lean check may answer for them: no paths
    means the index. None: they say something only the full CLI can answer."""
    scan = read_args(args, SUBSET)
    if scan.unknown or "-" in scan.paths or any(ambiguous(arg) for arg in scan.suspects):
        return None  # another option, stdin, a file named like an option: the CLI says
    if any(value is None or not os.path.isfile(value) for _, value in scan.values):
        return None  # a missing baseline is an error the full scanner must report
    staged = "staged" in scan.options
    if (staged and scan.paths) or (staged_only and not staged):
        return None  # the CLI refuses --staged with paths; `scan` alone walks a directory
    return None if config_may_apply(os.getcwd()) else scan


def walked(scan: ArgScan) -> ScanResult | None:
    """``scan [PATH...]`` (arguments :func:`plan` accepted) run by the pipeline itself,
    without click: the same settings and walk as the full CLI's, so a plain result is said
    here (:func:`said`) and anything else is handed over already scanned (never walked
    twice). None: only the full CLI can say what went wrong."""
    from .cli.terminal import Progress
    from .config.settings import command_line_settings
    from .errors import FatalError
    from .pipeline import scan_paths

    try:
        settings = command_line_settings(os.getcwd(), baseline=dict(scan.values).get(BASELINE))
        progress = None if "quiet" in scan.options else Progress(unit="files")
        try:
            return scan_paths(scan.paths or (".",), settings, progress=progress)
        finally:
            if progress is not None:
                progress.close()
    except (FatalError, OSError):
        return None  # the full CLI runs again and says what went wrong, as it words it


def said(result: ScanResult, quiet: bool) -> int | None:
    """The text report of a complete walk with nothing to warn of, clean or not, written as
    the CLI writes it (without colour: a terminal that takes colour gets the CLI's); its exit
    code. None: the CLI reports it (click loads only for what only it says)."""
    from .cli.terminal import use_color
    from .pipeline import exit_code

    if result.problems or result.warnings or result.unrotated or use_color(sys.stdout):
        return None
    from .report import terminal_options, writer

    text = writer("text")(result, terminal_options(result, quiet))
    if not _encodable(text, sys.stdout):
        return None  # click writes what this stdout's encoding cannot hold, as it sees fit
    try:
        sys.stdout.write(text)
    except OSError as exc:
        return stdout_failed(exc)
    return flushed(exit_code(result))


def _encodable(text: str, stream: IO[str]) -> bool:
    """Whether ``stream``'s encoding holds ``text`` as it is. Where it does not (a non-ASCII
    file name, or the report's "…", under ``PYTHONIOENCODING=ascii`` or a cp1252 pipe), the
    CLI writes the report: click re-wraps an ASCII stdout in UTF-8, and the others escape
    (:func:`.console.tolerant_streams`)."""
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeError, LookupError):
        return False
    return True


def say_clean(files: int, quiet: bool) -> int:
    """The text report of a clean scan, unless ``--quiet`` or a pre-commit batch; the exit code."""
    if not quiet and not under_pre_commit():
        try:
            print(clean_line(files))
        except OSError as exc:
            return stdout_failed(exc)
    return flushed(0)


# --- named files ----------------------------------------------------------------------------


def file_clean(path: str) -> bool:
    """True when ``path`` is a regular file with no anchor in it or its name (git stores names
    too); False means "look closer".

    Directories, FIFOs, devices and symbolic links (git commits a link's text, not what it
    leads to) go to the full scanner, which knows what each one means. The type is checked
    before opening (opening a device can act on it) and again on what was opened, without
    blocking, in case a FIFO was swapped in between.
    """
    try:
        if ANCHOR_TEXT in path or not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        fd = os.open(path, READ_FLAGS)  # never blocks: a FIFO swapped in after the check
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and stream_harmless(lambda n: os.read(fd, n))
    except OSError:
        return False
    finally:
        os.close(fd)


def _disguise_in(window: bytes) -> bool:
    """Whether any of DISGUISES is in ``window``: each lead (:func:`_by_lead`) searched once,
    the literals checked only where it occurs (rarely: a clean block's leads mostly do not
    occur at all)."""
    for lead, literals in LEADS.items():
        if lead in GATES:
            if lead in window and any(literal in window for literal in literals):
                return True
            continue
        at = window.find(lead)
        while at >= 0:
            if any(window.startswith(literal, at) for literal in literals):
                return True
            at = window.find(lead, at + 1)
    return False


def _hex_pair_in(window: bytes) -> bool:
    """Both hex halves of a fully escaped prefix (``70`` and ``5f`` in either case) somewhere in
    ``window``: a superset of what the full scanner's hex finder starts from."""
    second, third = HEX_PAIR
    return second in window and (third in window or third.upper() in window)


def stream_clean(read: Callable[[int], bytes], size: int = -1) -> bool:
    """True when ``size`` bytes (-1: up to the end) from ``read`` hold no anchor (plain or in
    any disguise: ANCHORS), no BOM, and are no archive (its members may hold a token
    in compressed bytes: the full scan expands it).

    A short stream (fewer than ``size`` bytes) is not clean: something went wrong and the full
    scanner should say what. The last bytes of each block are kept so an anchor split across
    two reads is still seen.
    """
    return _read_stream(read, size, hold=0) is True


def stream_harmless(read: Callable[[int], bytes], size: int = -1) -> bool:
    """:func:`stream_clean`, or a stream whose only anchors are plain ones (``tcp_keepalive``,
    a placeholder) and in which the engine finds nothing (:func:`dismissed`)."""
    found = _read_stream(read, size, HELD)
    return found if isinstance(found, bool) else dismissed(found)


def _read_stream(read: Callable[[int], bytes], size: int, hold: int) -> bool | bytes:
    """True: clean (:func:`stream_clean`); False: look closer; bytes: the whole stream, at most
    ``hold`` bytes, when plain anchors are the only reason to look closer."""
    held: list[bytes] | None = [] if hold else None
    tail, first, left, total, anchored = b"", True, size, 0, False
    while left:
        block = read(BLOCK if left < 0 else min(left, BLOCK))
        if not block:
            if left > 0:
                return False
            break
        window = tail + block
        first_bad = first and (block[:2] in UTF16_BOMS or archive_kind(block))
        if first_bad or _disguise_in(window) or _hex_pair_in(window):
            return False
        total += len(block)
        if held is not None and total <= hold:
            held.append(block)
        else:
            held = None
        anchored = anchored or ANCHOR in window
        if anchored and held is None:
            return False
        tail, first = window[-KEEP:], False
        left = left - len(block) if left > 0 else left
    return True if not anchored else b"".join(held or ())


def dismissed(data: bytes) -> bool:
    """Whether a scan of ``data``, whose only anchors are plain ones, would report nothing.

    Words like ``tcp_`` and ``scp_`` are common in source code: the engine's own decisions
    (the plain search, and the finder of an escape that continues a plain anchor) answer here,
    without the CLI, its reports and their dataclasses; the engine loads only for such a file.
    A token, or a reading the plain search does not make alike (after a UTF-8 BOM), goes to
    the full scanner, which reports it exactly as it would have.
    """
    from .engine.rules import Ruleset
    from .engine.search import plain_token_in

    if data.startswith(UTF8_BOM):
        return False
    ruleset = Ruleset()  # what the full CLI uses when no config applies (plan checked that)
    if plain_token_in(data, ruleset):
        return False
    if not escape_may_continue(data):
        return True
    from .engine.escapes import plain_anchor

    return next(plain_anchor(data, ruleset), None) is None


def escape_may_continue(data: bytes) -> bool:
    """Whether a byte that starts an escape (ESCAPE_INTRODUCERS) ends the run of token
    characters after a plain anchor: the only place where the escape finder of the full scan
    (``engine.escapes.plain_anchor``) decodes anything. Without one, its decoders (and their
    many patterns) need not load."""
    from .engine.boundary import run_end

    at = data.find(ANCHOR)
    while at >= 0:
        end = run_end(data, at, len(data))
        if data[end : end + 1] and data[end] in ESCAPE_INTRODUCERS:
            return True
        at = data.find(ANCHOR, max(at + 1, end))  # anchors inside a run share its end
    return False


# --- the index ------------------------------------------------------------------------------


def staged_clean_count() -> int | None:
    """How many staged files were read, when none can hold a token; None means "look closer"."""
    try:
        code, out = run_git(STAGED_DIFF.split(), keep_index=True)
    except OSError:
        return None
    entries = staged_entries(out) if code == 0 else None
    if entries is None or len(entries) > MAX_BLOBS:
        return None
    if any(ANCHOR in path for _, path in entries):
        return None  # a token may be in the name: the full scanner reports names
    return len(entries) if not entries or _blobs_clean([blob for blob, _ in entries]) else None


def _blobs_clean(blobs: list[bytes]) -> bool:
    try:
        proc = start_git(["cat-file", "--batch"], keep_index=True)
    except OSError:
        return False
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b"".join(blob + b"\n" for blob in blobs))
        proc.stdin.close()
    except OSError:  # git died first (a broken repository): the full scanner says why
        clean = False
    else:
        clean = all(_blob_clean(proc.stdout) for _ in blobs)
    proc.kill()
    proc.wait()
    return clean


def _blob_clean(stream: IO[bytes]) -> bool:
    """Read one ``cat-file --batch`` entry; False at the first anchor or anything unexpected."""
    _, kind, size, rest = batch_header(stream.readline())
    if kind != "blob" or rest:
        return False
    return stream_harmless(stream.read, size) and stream.read(1) == b"\n"


# --- the config -----------------------------------------------------------------------------


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
    """Whether a pyproject that names us really has our table (:func:`pyproject_table`).

    Parsing costs far less than the full scanner that a "maybe" would load; any doubt (a parse
    error, a ``tool`` that is no table) is a "yes", and the full scanner then says what is wrong.
    """
    try:
        with open(pyproject, "rb") as handle:
            doc = toml_module().loads(handle.read().decode("utf-8"))
        return pyproject_table(doc) is not None
    except Exception:  # whatever hostile bytes make the parser raise (RecursionError too): doubt
        return True
