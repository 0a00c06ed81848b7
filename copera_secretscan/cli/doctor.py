"""The ``doctor`` command: token hygiene of a repository and of this machine (``doctor.py``).

Exit 0 healthy (advice alone is healthy), 1 problems, 2 an error or something not checked.
``--fix`` applies the safe fixes (``remedy.py``), then checks again: the report and the exit
code say what is left.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Optional

import click

from .args import StrictCommand
from .common import CONFIG_OPTION, STDOUT, scope_options, settings_from, to_stdout
from .terminal import use_color


@click.command("doctor", cls=StrictCommand)
@click.argument("path", default=".", type=click.Path())
@click.option(
    "--fix", is_flag=True, help="Append missing .gitignore lines; chmod 600 the home config."
)
@click.option("--no-home", is_flag=True, help="Do not check ~/.copera.toml.")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE.")
@click.option(
    "--color/--no-color",
    default=None,
    help="Force colour on or off (default: on a terminal, unless NO_COLOR or TERM=dumb).",
)
@CONFIG_OPTION
@scope_options
@click.pass_context
def doctor_cmd(
    ctx: click.Context,
    path: str,
    fix: bool,
    no_home: bool,
    fmt: str,
    output: Optional[str],
    color: Optional[bool],
    **opts: Any,
) -> None:
    """Check token hygiene: token files `git add -A` would commit, tracked token files, a
    committed .copera.toml with a token, ~/.copera.toml permissions, hooks and CI installed.

    Exit codes: 0 healthy (advice alone is healthy), 1 problems, 2 error or not checked.
    """
    if not os.path.exists(path):
        raise click.BadParameter(f"{path!r}: no such file or directory", param_hint="PATH")
    from .. import doctor, remedy  # deferred: a scan's start-up does not pay for the doctor
    from ..atomic import write_atomically
    from ..report.doctor import render

    start = path if os.path.isdir(path) else os.path.dirname(path) or "."
    settings = settings_from(opts, start=os.path.abspath(start))
    checkup = doctor.examine(start, settings, home=not no_home)
    fixed = remedy.apply(checkup) if fix else []
    if fixed:
        checkup = doctor.examine(start, settings, home=not no_home)
    to_file = output not in (None, STDOUT)
    shade = fmt == "text" and not to_file and use_color(sys.stdout, color)
    text = render(checkup, fmt, fixed, shade)
    if output is not None and to_file:
        write_atomically(output, text)
    else:
        to_stdout(text, shade)
    ctx.exit(doctor.exit_code(checkup))
