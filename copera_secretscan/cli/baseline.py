"""The ``baseline`` commands: adopting the scanner on a repository with history.

:mod:`.main` adds this group to its click group; this module imports :mod:`.common`, never
:mod:`.main`. No logic lives here: :mod:`..baseline.audit` and :mod:`..baseline.records` do the
work, this module asks and prints.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Tuple

import click

from ..config.locate import BASELINE_FILE
from ..config.settings import Settings, load_settings, shown_path
from ..console import EXIT_ERROR, plural
from .args import PROG, StrictGroup
from .common import CONFIG_OPTION, emit, settings_from, stacked

if TYPE_CHECKING:  # the baseline modules load when a baseline command runs, not at start-up
    from ..baseline.records import Baseline, Entry


def baseline_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by the baseline commands."""
    options = [
        click.option(
            "--baseline",
            "-o",
            "baseline_file",
            type=click.Path(dir_okay=False),
            help=f"The baseline file (default: the config's, else {BASELINE_FILE}).",
        ),
        CONFIG_OPTION,
    ]
    return stacked(options, fn)


def baseline_target(opts: dict, settings: Settings) -> str:
    """``--baseline``, else the config's ``baseline``, else the default name at the root."""
    if opts.get("baseline_file"):
        return str(opts["baseline_file"])
    return settings.baseline or os.path.join(settings.root, BASELINE_FILE)


@click.group("baseline", cls=StrictGroup)
def baseline_group() -> None:
    """Accept the tokens a repository already has, so only new ones block a commit.

    The baseline stores a salted hash and the redacted token, never the token, and no line
    numbers: entries survive code moving, and the same token in another file is a new finding.
    """


def _build_command(name: str, update: bool, summary: str) -> Callable[..., Any]:
    @click.argument("paths", nargs=-1, type=click.Path())
    @click.option("--no-ignore", is_flag=True, help="Also scan files that git would ignore.")
    @click.option("--min-length", type=click.IntRange(1, 4096), default=None)
    @baseline_options
    @click.pass_context
    def command(ctx: click.Context, paths: Sequence[str], no_ignore: bool, **opts: Any) -> None:
        from .. import atomic
        from ..baseline import audit
        from ..baseline import file as baselinefile

        settings = settings_from({**opts, "baseline_file": None})
        target = baseline_target(opts, settings)
        atomic.check_writable(shown_path(target), "baseline")  # refuse it before the scan
        built, result = audit.build(
            paths or (".",), settings, target, update, not no_ignore, bool(opts.get("force"))
        )
        emit(replace(result, findings=()), {**opts, "fmt": "text", "quiet": True, **_PLAIN})
        if result.problems:  # a partial baseline would drop entries of files it could not read
            shown = shown_path(target)
            click.echo(f"{PROG}: error: scan incomplete; {shown} not written", err=True)
            ctx.exit(EXIT_ERROR)
        baselinefile.save(built, shown_path(target))
        click.echo(f"Wrote {shown_path(target)}: {baselinefile.count(built.entries)}.")
        ctx.exit(0)

    if not update:  # update never replaces a file it cannot read: there is nothing to force
        command = click.option(
            "--force",
            is_flag=True,
            help="Replace an existing baseline even if it cannot be read (its decisions are lost).",
        )(command)
    return baseline_group.command(name, help=summary)(command)


_PLAIN = {"show_secrets": False, "color": False, "output": None}
baseline_create = _build_command(
    "create", False, "Scan PATHS (default .) and write a baseline of every token found."
)
baseline_update = _build_command(
    "update",
    True,
    "Rescan PATHS (default .): add new tokens, drop entries no longer found, keep decisions.",
)


@baseline_group.command("audit")
@click.option("--report", is_flag=True, help="Print every entry and decision (for CI); no prompt.")
@click.option("--all", "everything", is_flag=True, help="Also revisit entries already decided.")
@baseline_options
@click.pass_context
def baseline_audit(ctx: click.Context, report: bool, everything: bool, **opts: Any) -> None:
    """Decide, entry by entry, whether each accepted token is a real leak or a false positive.

    With --report: exit 1 while an entry is marked a real leak still present or has expired.
    """
    from ..baseline import audit
    from ..baseline import file as baselinefile

    settings = load_settings(opts.get("config_file"), start=os.getcwd())
    target = baseline_target(opts, settings)
    known = baselinefile.load(shown_path(target))  # messages name it as the user would
    if report:
        text, code = audit.report(known, settings)
        click.echo(text, nl=False)
        ctx.exit(code)
    todo = audit.to_audit(known, everything)
    if todo:
        from ..atomic import check_writable

        check_writable(shown_path(target), "baseline")  # before any question, not after one
    left = _audit_interactively(known, todo, settings, target)
    if left:
        click.echo(
            f"{PROG}: error: standard input ended with {left} of "
            f"{plural(len(todo), 'entry', 'entries')} not "
            "audited; the answers given are saved (in CI, use 'baseline audit --report')",
            err=True,
        )
    ctx.exit(EXIT_ERROR if left else 0)


def _audit_interactively(
    known: Baseline, todo: Sequence[Entry], settings: Settings, target: str
) -> int:
    """Ask about each entry; every answer is saved at once, so quitting loses nothing.

    Returns how many entries were left when standard input ended. End of input is not Ctrl-C
    (130): it stops like ``q``, but the run did not do what was asked, so the caller exits 2,
    and a job that runs the audit with no terminal (stdin from /dev/null) cannot pass by it.
    """
    from ..baseline import audit
    from ..baseline import file as baselinefile
    from ..baseline import records as baseline

    answers = {"r": baseline.LEAK, "f": baseline.FALSE_POSITIVE}
    found = audit.locate_all(known, settings) if todo else {}
    left = 0
    for index, entry in enumerate(todo, 1):
        click.echo(audit.show(entry, found.get(entry.digest), index, len(todo)))
        answer = _ask(
            "Real leak to rotate (r), false positive (f), skip (s), quit (q)?", ("r", "f", "s", "q")
        )
        ended = answer is None
        if answer in answers:
            known, ended = _decide(known, entry, answers[answer], target)
        if ended:  # an entry whose decision was given before the reason was cut off is done
            left = len(todo) - index + (answer is None)
        click.echo("")
        if ended or answer == "q":
            break
    click.echo(f"{shown_path(target)}: {baselinefile.entries_summary(known.entries)}.")
    return left


def _decide(known: Baseline, entry: Entry, decision: str, target: str) -> Tuple[Baseline, bool]:
    """Record ``decision`` with the reason asked for; True when input ended at that question."""
    from ..baseline import file as baselinefile
    from ..baseline import records as baseline

    reason = _ask("Reason (optional)", default=entry.reason or "")
    why = baselinefile.clean_text(reason or "").strip()  # a pasted tab could not be read back
    known = baseline.with_decision(known, entry.digest, decision, why)
    baselinefile.save(known, shown_path(target))
    return known, reason is None


def _ask(text: str, choices: Sequence[str] = (), default: str = "") -> Optional[str]:
    """One answer from standard input (``default`` for an empty line), asked again until it is
    one of ``choices`` (when given); None at the end of input, or when stdin is closed.

    Read here rather than through ``click.prompt``: click turns both Ctrl-C and end of input
    into one ``Abort`` (only Ctrl-C is an interruption, 130), and click 8.1 under its test
    runner reads an ended input as empty lines and asks again forever.
    """
    while sys.stdin is not None and not sys.stdin.closed:
        click.echo(f"{text}: ", nl=False)
        line = sys.stdin.readline()
        if not line:
            click.echo("")
            return None
        answer = line.strip() or default
        if not choices or answer in choices:
            return answer
        allowed = ", ".join(repr(choice) for choice in choices)
        click.echo(f"Error: {answer!r} is not one of {allowed}.")
    return None
