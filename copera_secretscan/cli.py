"""The command line: parse, wire the pipeline, print, exit 0/1/2 (130 on Ctrl-C).

No scanning logic lives here. Exit codes go through ``ctx.exit`` because click ignores a
callback's return value in standalone mode; :func:`main` also maps Ctrl-C to 130 rather than
click's 1, which a CI gate would read as "tokens found".
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, List, Optional, Sequence

import click

from . import __version__, scanner
from .config import Settings, load_settings
from .errors import FatalError
from .models import ScanResult
from .report import FORMATS, ReportOptions, writer
from .terminal import Progress, use_color

PROG = "copera-secretscan"
EXIT_INTERRUPTED = 130
EXIT_ERROR = 2


def report_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that prints a scan report."""
    options = [
        click.option(
            "--format",
            "-f",
            "fmt",
            type=click.Choice(FORMATS),
            default="text",
            show_default=True,
            help="Report format.",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, writable=True),
            help="Write the report to FILE instead of standard output.",
        ),
        click.option(
            "--show-secrets",
            is_flag=True,
            help="Print whole tokens (for a human at a terminal; never in CI).",
        ),
        click.option("--quiet", "-q", is_flag=True, help="Print nothing when no token is found."),
        click.option(
            "--color/--no-color",
            default=None,
            help="Force colour on or off (default: on a terminal, unless NO_COLOR).",
        ),
        click.option(
            "--config",
            "config_file",
            type=click.Path(dir_okay=False),
            help="Read settings from FILE instead of the repository's config.",
        ),
        click.option(
            "--min-length",
            type=click.IntRange(1, 4096),
            default=None,
            help="Shortest token body to report (default 16).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG)
def cli() -> None:
    """Find Copera API tokens (cp_pat_, cp_key_, cp_oat_) before git spreads them.

    Exit codes: 0 nothing found, 1 tokens found, 2 error or incomplete scan, 130 interrupted.
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--no-ignore", is_flag=True, help="Also scan files that .gitignore and friends would skip."
)
@report_options
@click.pass_context
def scan(ctx: click.Context, paths: Sequence[str], no_ignore: bool, **opts: Any) -> None:
    """Scan files and directories (default: the current directory; - reads standard input).

    Directories are walked as git sees them: ignored files are skipped, tracked files are always
    scanned. A file named explicitly is scanned even if it is ignored.
    """
    settings = settings_from(opts)
    progress = Progress() if not opts["quiet"] else None
    try:
        result = scanner.scan_paths(
            paths or (".",), settings, use_ignore=not no_ignore, progress=progress
        )
    finally:
        if progress is not None:
            progress.close()
    emit(result, opts)
    ctx.exit(scanner.exit_code(result))


def settings_from(opts: dict) -> Settings:
    """Config file settings with command-line flags laid on top."""
    settings = load_settings(opts.get("config_file"), start=os.getcwd())
    overrides = {"min_length": opts.get("min_length")}
    changes = {key: value for key, value in overrides.items() if value is not None}
    if changes:
        from dataclasses import replace

        settings = replace(settings, **changes)
    return settings


def emit(result: ScanResult, opts: dict) -> None:
    """Problems to stderr (always), then the report to stdout or ``--output``."""
    for problem in result.problems:
        click.echo(f"{PROG}: error: {problem.path or '-'}: {problem.message}", err=True)
    for warning in result.warnings:
        click.echo(f"{PROG}: warning: {warning}", err=True)
    output = opts.get("output")
    options = ReportOptions(
        show_secrets=opts["show_secrets"],
        color=use_color(sys.stdout, opts["color"]) and not output and opts["fmt"] == "text",
        quiet=opts["quiet"],
    )
    text = writer(opts["fmt"])(result, options)
    if output:
        write_atomically(output, text)
    elif text:
        click.echo(text, nl=False, color=options.color)


def write_atomically(path: str, text: str) -> None:
    """Write a whole file or nothing: a temporary sibling renamed into place."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise FatalError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def main(argv: Optional[List[str]] = None) -> int:
    """Run the CLI and return the process exit code (never a traceback for user errors)."""
    try:
        code = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo(f"{PROG}: interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except FatalError as exc:
        click.echo(f"{PROG}: error: {exc}", err=True)
        return EXIT_ERROR
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (| head); nothing more to say
        return EXIT_ERROR
    return code if isinstance(code, int) else 0
