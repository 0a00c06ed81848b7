"""The ``baseline`` commands: adopting the scanner on a repository with history.

:mod:`.main` adds this group to its click group; this module imports :mod:`.common`, never
:mod:`.main`. No logic lives here: :mod:`..baseline.audit` and :mod:`..baseline.records` do the
work, this module asks and prints.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import click

from ..config.locate import BASELINE_FILE
from ..config.settings import Settings, load_settings, shown_path
from ..console import EXIT_ERROR, plural
from .args import PROG, ArgumentError, StrictGroup
from .audit import audit_interactively, not_a_date
from .common import CONFIG_OPTION, emit, scope_options, settings_from, stacked

if TYPE_CHECKING:  # the baseline modules load when a baseline command runs, not at start-up
    from ..baseline.audit import Change
    from ..baseline.records import Baseline


def baseline_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by the baseline commands."""
    options = [
        click.option(
            "--baseline",
            "-b",
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
    @click.option(
        "--min-length",
        type=click.IntRange(1, 4096),
        default=None,
        help="Shortest token body to record (default: the config's, else 16).",
    )
    @scope_options
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
        emit(result._replace(findings=()), {**opts, "fmt": "text", "quiet": True, **_PLAIN})
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


def check_date(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    """``--set-expires``: a real day as YYYY-MM-DD, or ``-`` to remove it; else one line, 2."""
    from ..baseline import file as baselinefile

    if value is None or value == "-" or baselinefile.is_date(value):
        return value
    raise ArgumentError(f"--set-expires: {not_a_date(value)}")


@baseline_group.command("audit")
@click.option("--report", is_flag=True, help="Print every entry and decision (for CI); no prompt.")
@click.option("--all", "everything", is_flag=True, help="Also revisit entries already decided.")
@click.option(
    "--entry",
    metavar="HASH",
    help="Change this entry without prompting (its hash, or the start of it as audit shows).",
)
@click.option(
    "--set-decision",
    type=click.Choice(["leak", "false-positive"]),
    help="With --entry: record this decision (dated today).",
)
@click.option("--set-reason", metavar="TEXT", help="With --entry: the reason (- removes it).")
@click.option(
    "--set-expires",
    metavar="YYYY-MM-DD",
    callback=check_date,
    help="With --entry: the last day the entry applies (- removes it).",
)
@baseline_options
@click.pass_context
def baseline_audit(ctx: click.Context, report: bool, everything: bool, **opts: Any) -> None:
    """Decide, entry by entry, whether each accepted token is a real leak or a false positive,
    and why, and until when.

    With --report: exit 1 while an entry is marked a real leak still present or has expired.
    With --entry: set one entry's decision, reason or expiry, for scripts.
    """
    from ..baseline import audit
    from ..baseline import file as baselinefile

    change = _change_asked(opts, report or everything)
    settings = load_settings(opts.get("config_file"), start=os.getcwd())
    target = baseline_target(opts, settings)
    known = baselinefile.load(shown_path(target))  # messages name it as the user would
    if report:
        text, code = audit.report(known, settings)
        click.echo(text, nl=False)
        ctx.exit(code)
    if change is not None:
        _change_entry(known, opts["entry"], change, target)
        ctx.exit(0)
    todo = audit.to_audit(known, everything)
    if todo:
        from ..atomic import check_writable

        check_writable(shown_path(target), "baseline")  # before any question, not after one
    left = audit_interactively(known, todo, settings, target)
    if left:
        click.echo(
            f"{PROG}: error: standard input ended with {left} of "
            f"{plural(len(todo), 'entry', 'entries')} not "
            "audited; the answers given are saved (in CI, use 'baseline audit --report')",
            err=True,
        )
    ctx.exit(EXIT_ERROR if left else 0)


def _change_asked(opts: dict, walking: bool) -> Optional[Change]:
    """The change ``--entry`` and ``--set-*`` ask for, None without them; a half-given or
    mixed request is a usage error before the baseline is read."""
    from ..baseline.audit import Change

    values = [opts.get(f"set_{key}") for key in ("decision", "reason", "expires")]
    if opts.get("entry") is None:
        if any(value is not None for value in values):
            raise ArgumentError("--set-decision, --set-reason and --set-expires need --entry")
        return None
    if walking or all(value is None for value in values):
        raise ArgumentError(
            "--entry takes --set-decision, --set-reason or --set-expires, not --report or --all"
        )
    return Change(*values)


def _change_entry(known: Baseline, prefix: str, change: Change, target: str) -> None:
    from ..atomic import check_writable
    from ..baseline import audit
    from ..baseline import file as baselinefile

    check_writable(shown_path(target), "baseline")
    if change.reason not in (None, audit.CLEAR):
        change = replace(change, reason=baselinefile.clean_text(change.reason).strip())
    changed, entry = audit.change(known, prefix, change)
    baselinefile.save(changed, shown_path(target))
    click.echo(f"{shown_path(target)}: {audit.described(entry)}")
