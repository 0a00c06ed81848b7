"""What every command shares: the ``--config`` option, settings, and printing a scan's report.

Its own module so that the command modules (:mod:`.main` for ``scan``, :mod:`.baseline` and
:mod:`.config`) all import it and none imports another: :mod:`.main` owns the click group and
adds the commands, the command modules know nothing of the group.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, List, Optional, Tuple

import click

from ..atomic import write_atomically
from ..config.settings import Settings, command_line_settings
from ..errors import FatalError
from ..models import ScanResult, printable
from ..report import ReportOptions, redacted, terminal_options, writer
from .args import PROG
from .terminal import use_color

STDOUT = "-"  # as an --output or --report path: standard output, as for most tools

CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Read settings from FILE instead of the repository's config.",
)


def _check_patterns(
    ctx: click.Context, param: click.Parameter, values: Tuple[str, ...]
) -> Tuple[str, ...]:
    """A pattern gitignore cannot read is a usage error, before anything is scanned."""
    from ..config.file import check_patterns  # deferred: pathspec loads only when given

    try:
        check_patterns([value for value in values if value.strip()], "--exclude")
        return values  # a blank one is refused after parsing, as every option's is
    except FatalError as exc:
        raise click.BadParameter(str(exc).partition(": ")[2], ctx=ctx, param=param) from exc


# What a scan looks at: for ``scan`` and the baseline commands that scan. Each adds to the
# config's list of the same meaning (``exclude``, ``disable_rules``).
SCOPE_OPTIONS = [
    click.option(
        "--exclude",
        metavar="PATTERN",
        multiple=True,
        callback=_check_patterns,
        help="Skip paths matching this gitignore-style PATTERN, from the repository root, "
        "named files too (repeatable; adds to the config's exclude).",
    ),
    click.option(
        "--disable-rule",
        "disable_rules",
        metavar="ID",
        multiple=True,
        help="Do not report tokens of rule ID, e.g. copera-oat or a custom rule's id "
        "(repeatable; adds to the config's disable_rules).",
    ),
]


def scope_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    return stacked(SCOPE_OPTIONS, fn)


def stacked(options: List[Callable[..., Any]], fn: Callable[..., Any]) -> Callable[..., Any]:
    """Apply click option decorators in the order listed (as if written above ``fn``)."""
    for option in reversed(options):
        fn = option(fn)
    return fn


def settings_from(opts: dict, start: Optional[str] = None) -> Settings:
    """Config file settings (found from ``start``, default the working directory) with
    command-line flags laid on top."""
    settings = command_line_settings(
        start or os.getcwd(),
        opts.get("config_file"),
        min_length=opts.get("min_length"),
        baseline=opts.get("baseline_file"),
        fail_on_unrotated=opts.get("fail_on_unrotated") or None,  # a flag only turns it on
    )
    added = opts.get("disable_rules") or ()
    if added or opts.get("exclude"):
        from ..config.file import disabled_problem  # a config may define the rules named

        settings = settings.with_lists(tuple(opts.get("exclude") or ()), tuple(added))
        wrong = disabled_problem(settings.disable_rules, settings.rules) if added else None
        if wrong:
            raise click.UsageError(f"--disable-rule: {wrong}")
    return settings


def emit(result: ScanResult, opts: dict) -> None:
    """Problems to stderr (always), then the report to stdout or ``--output``."""
    said = result if opts["show_secrets"] else redacted(result)
    for problem in said.problems:
        click.echo(f"{PROG}: error: {printable(str(problem))}", err=True)
    for warning in said.warnings:
        click.echo(f"{PROG}: warning: {printable(warning)}", err=True)
    output = opts.get("output") or STDOUT
    to_file = output != STDOUT
    options = terminal_options(
        result,
        opts["quiet"],
        show_secrets=opts["show_secrets"],
        color=use_color(sys.stdout, opts["color"]) and not to_file and opts["fmt"] == "text",
    )
    text = writer(opts["fmt"])(result, options)
    if to_file:
        write_atomically(output, text)
    elif text:
        to_stdout(text, options.color)
    write_reports(result, opts)


class StdoutFailed(Exception):
    """Standard output refused the report. Not an OSError: click would make a closed pipe
    exit 1, which reads as "tokens found"."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def to_stdout(text: str, color: Optional[bool] = None) -> None:
    try:
        click.echo(text, nl=False, color=color)
    except OSError as exc:  # a full disk (/dev/full), a reader gone (| head)
        raise StdoutFailed(exc) from exc


def write_reports(result: ScanResult, opts: dict) -> None:
    """Each ``--report FORMAT:PATH``, whole or not at all, after the terminal got its text."""
    options = ReportOptions(show_secrets=opts.get("show_secrets", False))
    for fmt, path in opts.get("reports") or ():
        if path == STDOUT:
            to_stdout(writer(fmt)(result, options))
            continue
        directory = os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, exist_ok=True)  # CI recipes write into reports/ dirs
        except OSError as exc:
            raise FatalError(f"{path}: cannot write: {exc.strerror or exc}") from exc
        write_atomically(path, writer(fmt)(result, options))
