"""The command line: parse, wire the pipeline, print, exit 0/1/2 (130 on Ctrl-C).

No scanning logic lives here. This module owns the click group and the ``scan`` command, and
adds the commands of :mod:`.config` and :mod:`.baseline`; what the commands share lives in
:mod:`.common`. Exit codes go through ``ctx.exit`` because click ignores a
callback's return value in standalone mode; :func:`main` also maps Ctrl-C to 130 rather than
click's 1, which a CI gate would read as "tokens found".
"""

from __future__ import annotations

import copy
import sys
from functools import partial
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import click

from .. import __version__, kinds, pipeline
from ..config.settings import Settings
from ..console import EXIT_ERROR, HOOK_PROG, discard, flushed, interrupted, say_error, stdout_failed
from ..errors import FatalError
from ..models import BUILTIN_PREFIXES, ScanResult, mask_tokens, printable
from ..report import FORMATS
from .args import PROG, StrictGroup, check_range
from .args import hook_argv as _hook_argv
from .baseline import baseline_group
from .common import CONFIG_OPTION, StdoutFailed, emit, scope_options, settings_from, stacked
from .config import config_cmd
from .doctor import doctor_cmd
from .terminal import Progress


def parse_reports(
    ctx: click.Context, param: click.Parameter, values: Sequence[str]
) -> Tuple[Tuple[str, str], ...]:
    """``--report FORMAT:PATH`` pairs; a typo is a usage error (exit 2) before anything is read."""
    reports = []
    for value in values:
        fmt, colon, path = value.partition(":")
        if not colon or fmt not in FORMATS or not path.strip():
            raise click.BadParameter(
                f"{value!r} is not FORMAT:PATH with FORMAT one of {', '.join(FORMATS)} "
                "(e.g. sarif:results.sarif)",
                ctx=ctx,
                param=param,
            )
        reports.append((fmt, path))
    return tuple(reports)


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
            help="Force colour on or off (default: on a terminal, unless NO_COLOR or TERM=dumb).",
        ),
        CONFIG_OPTION,
        click.option(
            "--min-length",
            type=click.IntRange(1, 4096),
            default=None,
            help="Shortest token body to report (default 16).",
        ),
        click.option(
            "--baseline",
            "-b",
            "baseline_file",
            type=click.Path(dir_okay=False),
            help="Report only tokens not accepted in this baseline file.",
        ),
        click.option(
            "--fail-on-unrotated",
            is_flag=True,
            help="Exit 1 when the baseline hides a token marked a real leak to rotate "
            "(config: fail_on_unrotated).",
        ),
        click.option(
            "--report",
            "reports",
            multiple=True,
            metavar="FORMAT:PATH",
            callback=parse_reports,
            help="Also write a report in FORMAT to PATH (repeatable), e.g. sarif:results.sarif; "
            "the terminal keeps --format.",
        ),
        click.option(
            "--exit-zero",
            is_flag=True,
            help="Exit 0 even when tokens are found (report-only jobs); "
            "an error or incomplete scan still exits 2.",
        ),
    ]
    return stacked(options, fn)


HELP = f"""Find Copera API tokens ({kinds.listed()}) before git spreads them.

    Exit codes: 0 nothing found, 1 tokens found, 2 error or incomplete scan, 130 interrupted.
    """  # the prefixes come from the kinds table, so the help never lists a stale set


# -h as well as --help, on the group and on `scan` itself, which the hook runs without the group
HELP_NAMES = {"help_option_names": ["-h", "--help"]}


@click.group(cls=StrictGroup, help=HELP, context_settings=HELP_NAMES)
@click.version_option(__version__, prog_name=PROG)
def cli() -> None:
    """The command group; its help (:data:`HELP`) names every kind's prefix."""


cli.add_command(config_cmd)  # the commands of other modules: they import no part of this one
cli.add_command(baseline_group)
cli.add_command(doctor_cmd)


class GitMode(NamedTuple):
    """One way to scan git instead of PATHS: its option, the pipeline function that runs it
    (given settings, the option's value and progress), and what its progress counts."""

    option: Callable[[Callable[..., Any]], Callable[..., Any]]
    scan: Callable[[Settings, Any, Any], ScanResult]
    unit: str = "files"


# A git option (its click name) -> its mode. A new git source is a pipeline function and a row.
GIT_SCANS: Dict[str, GitMode] = {
    "staged": GitMode(
        click.option("--staged", is_flag=True, help="Scan the index (what the next commit adds)."),
        lambda settings, _, progress: pipeline.scan_staged(settings, progress),
    ),
    "git_range": GitMode(
        click.option(
            "--git",
            "git_range",
            metavar="REV-RANGE",
            callback=check_range,
            help="Scan blobs and commit messages new in REV-RANGE (e.g. origin/main..HEAD).",
        ),
        pipeline.scan_history,
        "blobs",
    ),
    "history": GitMode(
        click.option(
            "--history",
            is_flag=True,
            help="Scan all history reachable from refs, tags and stashes (--git narrows it).",
        ),
        lambda settings, _, progress: pipeline.scan_history(settings, None, progress),
        "blobs",
    ),
    "commit_msg": GitMode(
        click.option(
            "--commit-msg",
            metavar="FILE",
            type=click.Path(),  # a directory or FIFO is refused by the source, in one line
            help="Scan a commit message file (the commit-msg hook).",
        ),
        lambda settings, path, _: pipeline.scan_commit_msg(path, settings),
    ),
    "pre_push": GitMode(
        click.option("--pre-push", is_flag=True, help="Scan what a push sends (pre-push hook)."),
        lambda settings, _, progress: pipeline.scan_pre_push(settings, progress),
        "blobs",
    ),
    "ci": GitMode(
        click.option(
            "--ci",
            is_flag=True,
            help="Scan the commits this CI pipeline brings (push, pull/merge request), read "
            "from GitHub Actions, GitLab CI, Azure Pipelines, Bitbucket or Jenkins variables.",
        ),
        lambda settings, _, progress: pipeline.scan_ci(settings, progress),
        "blobs",
    ),
}
GIT_MODES = tuple(GIT_SCANS)
ONE_OF = "choose one of PATHS, --staged, --git/--history, --commit-msg, --pre-push, --ci"


# ``scan --verify``: the only options that make the scan talk to a network. There is
# deliberately no config-file key for any of them: a repository's config must never be able to
# send its reader's tokens anywhere (config/file.py refuses such a key as unknown).
VERIFY_OPTIONS = [
    click.option(
        "--verify",
        is_flag=True,
        help="Ask Copera whether each token found is live: each distinct Copera token is sent "
        "once, as a Bearer token, to GET API-URL/board/list-boards and to no other host. "
        "Nothing is sent without this flag.",
    ),
    click.option(
        "--only-verified",
        is_flag=True,
        help="With --verify: tokens Copera refused (invalid) do not fail the scan; live ones "
        "fail, and so do unknown ones (fail closed: a token not checked is not waved through).",
    ),
    click.option(
        "--api-url",
        metavar="URL",
        envvar="COPERA_API_URL",
        help="Where --verify asks (default https://api.copera.ai/public/v1; env "
        "COPERA_API_URL): https only, plain http only to localhost.",
    ),
    click.option(
        "--verify-timeout",
        type=click.FloatRange(0.1, 60),
        default=5.0,
        show_default=True,
        help="Seconds --verify waits for each answer before calling the token unknown.",
    ),
]


def verify_settings(ctx: click.Context, opts: dict) -> Any:
    """What --verify needs, checked before anything is scanned or sent; None without --verify."""
    if not opts["verify"]:
        given = [
            name
            for name in ("only_verified", "api_url", "verify_timeout")
            if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
        ]
        if given:
            raise click.UsageError(f"--{given[0].replace('_', '-')} needs --verify")
        return None
    from ..verify import DEFAULT_API_URL, Options, check_base  # deferred: --verify alone

    try:
        base = check_base(opts["api_url"] or DEFAULT_API_URL)
    except FatalError as exc:
        raise click.UsageError(f"--api-url: {exc}") from exc
    return Options(base=base, timeout=opts["verify_timeout"])


def git_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What to scan in git instead of PATHS: the options of :data:`GIT_SCANS`, in its order."""
    return stacked([mode.option for mode in GIT_SCANS.values()], fn)


def git_mode(paths: Sequence[str], no_ignore: bool, opts: dict) -> Optional[str]:
    """The git option the command line chose, or None for a scan of PATHS."""
    chosen = [mode for mode in GIT_MODES if opts.get(mode) not in (None, False)]
    if chosen == ["git_range", "history"]:
        chosen = ["git_range"]  # --history --git RANGE: history, narrowed to the range
    if not chosen:
        return None
    if len(chosen) > 1 or paths or no_ignore:
        raise click.UsageError(ONE_OF)
    return chosen[0]


@cli.command(context_settings=HELP_NAMES)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--no-ignore", is_flag=True, help="Also scan files that .gitignore and friends would skip."
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(0, 256),
    default=None,
    help="Worker processes for a large scan of PATHS (default 0: one per core; 1: none).",
)
@scope_options
@git_options
@report_options
@partial(stacked, VERIFY_OPTIONS)
@click.pass_context
def scan(ctx: click.Context, paths: Sequence[str], no_ignore: bool, **opts: Any) -> None:
    """Scan files and directories (default: the current directory; - reads standard input).

    Directories are walked as git sees them: ignored files are skipped, tracked files are always
    scanned. A file named explicitly is scanned even if it is ignored.

    A PATH that starts with - and also names a file here is refused, since it reads as an option
    too: write ./-NAME, or put it after --. A FIFO is read only while something writes to it.
    """
    settings = settings_from(opts)
    mode = git_mode(paths, no_ignore, opts)
    asking = verify_settings(ctx, opts)
    # the lean path (quick.py) already walked these very PATHS; it hands over only to report
    ready = ctx.obj if isinstance(ctx.obj, ScanResult) and mode is None else None
    unit = GIT_SCANS[mode].unit if mode else "files"
    progress = Progress(unit=unit) if not opts["quiet"] and ready is None else None
    try:
        if ready is not None:
            result = ready
        elif mode is not None:
            result = GIT_SCANS[mode].scan(settings, opts[mode], progress)
        else:
            result = pipeline.scan_paths(
                paths or (".",),
                settings,
                use_ignore=not no_ignore,
                progress=progress,
                jobs=opts.get("jobs"),
            )
    finally:
        if progress is not None:
            progress.close()
    if asking is not None:
        from ..verify import verify

        result = verify(result, asking)
    emit(result, opts)
    ctx.exit(exit_code(result, opts, settings.fail_on_unrotated))


def exit_code(result: ScanResult, opts: dict, fail_on_unrotated: bool = False) -> int:
    """``--exit-zero`` turns "tokens found" into 0, never an incomplete scan: that stays 2.
    ``--only-verified`` lets the tokens Copera refused pass, and no other."""
    if opts.get("only_verified"):
        from ..verify import still_failing

        result = still_failing(result)
    code = pipeline.exit_code(result, fail_on_unrotated)
    if opts.get("exit_zero") and code == 1:
        return EXIT_ERROR if result.problems else 0
    return code


def hook_argv(args: Sequence[str]) -> List[str]:
    """The ``scan`` the pre-commit hook runs: on the index when it was given no file names."""
    return _hook_argv(scan, args, GIT_MODES)


HOOK_HELP = """Scan the files pre-commit names; given none, the index (what the next commit adds).

    A PATH that starts with - and also names a file here is refused, since it reads as an option
    too: rename it. Run by pre-commit; `copera-secretscan scan` is the command for people.
    """


def hook_main(args: Sequence[str]) -> int:
    """``copera-secretscan-hook``: the ``scan`` command under the hook's own name and summary,
    so its ``--help`` and usage errors describe the program the user ran."""
    hook = copy.copy(scan)  # the same options and callback; only what --help says differs
    hook.help = HOOK_HELP
    return main(hook_argv(args), HOOK_PROG, hook)


def main(
    argv: Optional[List[str]] = None,
    prog_name: str = PROG,
    command: click.Command = cli,
    ready: Optional[ScanResult] = None,
) -> int:
    """Run the CLI and return the process exit code (never a traceback for user errors).

    ``prog_name`` is what ``--help`` and usage errors call the program: each entry point
    passes its own name. ``ready`` is the result of the ``scan`` of PATHS that ``argv`` asks
    for, when the lean path has already walked them: the CLI then only reports it. Standard
    output is flushed before returning: a report that could not be written is exit 2.
    """
    try:
        code = command.main(args=argv, prog_name=prog_name, standalone_mode=False, obj=ready)
    except (KeyboardInterrupt, click.exceptions.Abort):
        return interrupted()
    except click.ClickException as exc:
        _show(exc)
        return flushed(EXIT_ERROR)
    except FatalError as exc:
        shown = mask_tokens(str(exc), BUILTIN_PREFIXES)
        say_error(f"error: {printable(shown)}")
        return flushed(EXIT_ERROR)
    except StdoutFailed as exc:
        return stdout_failed(exc.error)
    except OSError as exc:  # e.g. stderr on a full disk: still one line where possible, and 2
        say_error(f"error: {exc.strerror or exc}")
        return flushed(EXIT_ERROR)
    return flushed(code if isinstance(code, int) else 0)


def _show(exc: click.ClickException) -> None:
    """A usage error in one line naming what is wrong, as every other error (click's own
    adds a usage block and a hint); ``--help`` shows the usage."""
    if isinstance(exc, click.UsageError) and type(exc).show is click.UsageError.show:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        say_error(f"error: {printable(exc.format_message())}{hint}")
        return
    try:
        exc.show()
    except OSError:  # stderr full or gone: the exit code is all that can still tell
        discard(sys.stderr)
