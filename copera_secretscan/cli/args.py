"""What the command line's arguments mean, before any command acts on them: one meaning each.

pre-commit appends file names after a hook's arguments with no ``--`` in between, and click,
like most parsers, reads options anywhere. A committed file named ``--exit-zero`` would turn
the gate off, ``--show-secrets`` would print whole tokens, ``-`` would read stdin instead of the
file. So an argument that reads as an option and also names a path here is refused (exit 2),
unless it is the value of the option before it. The grammar is :func:`..argv.read_args`; which
options take a value is read here from click's own parameter objects, never from a second
table that could drift from them.

An empty value (``--git "$BASE"`` with BASE unset) is refused the same way: it must never fall
back to another scan that exits 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Sequence

import click

from ..argv import ArgScan, ambiguous, read_args
from ..console import PROG
from ..models import printable

if TYPE_CHECKING:
    from ..argv import Arity

_READS_AS = {"-": "standard input", "--": "the end of the options"}


class ArgumentError(click.UsageError):
    """A usage error said in one line, like every other error (click's adds a usage block)."""

    def show(self, file: Any = None) -> None:
        click.echo(f"{PROG}: error: {self.format_message()}", err=True)


def option_arity(command: click.Command, ctx: click.Context) -> Arity:
    """Every spelling of every option of ``command``, with how many values it takes."""
    table: Arity = {}
    for param in command.get_params(ctx):
        if isinstance(param, click.Option):
            takes = 0 if param.is_flag or param.count else param.nargs
            for spelling in (*param.opts, *param.secondary_opts):
                table[spelling] = (param.name or "", takes)
    return table


def refuse_ambiguous(scan: ArgScan) -> None:
    """Exit 2 on the first argument that is both an option (or ``-``, ``--``) and a path here."""
    for arg in scan.suspects:
        if ambiguous(arg):
            raise ArgumentError(ambiguity(arg))


def ambiguity(arg: str) -> str:
    shown = printable(arg)
    after = "" if arg in _READS_AS else " or after '--'"
    return (
        f"'{shown}' is a file here and also reads as {_READS_AS.get(arg, 'an option')}: "
        f"rename it, or pass it as ./{shown}{after} (pre-commit passes file names without '--')"
    )


def refuse_blank(ctx: click.Context) -> None:
    """An empty or blank value is an unset variable, never "nothing" or "the default"."""
    for param in ctx.command.get_params(ctx):
        value = ctx.params.get(param.name or "")
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(item, str) and not item.strip() for item in values):
            shown = max(param.opts, key=len) if isinstance(param, click.Option) else "PATH"
            raise ArgumentError(f"{shown}: empty value (an unset variable?)")


def check_range(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    """``--git`` without its left end: ``$BASE..HEAD`` with BASE unset reads ``..HEAD``, which
    git takes as ``HEAD..HEAD`` (nothing to scan). ``X..`` is git's ``X..HEAD``: kept."""
    if value is not None:
        left, dots, _ = value.partition("..")
        if dots and not left.strip():
            raise ArgumentError(
                f"--git {printable(value)!r}: nothing before '..' (an unset variable?); "
                "name both ends, e.g. origin/main..HEAD"
            )
    return value


def hook_argv(command: click.Command, args: Sequence[str], modes: Iterable[str]) -> List[str]:
    """The hook's ``args`` for ``command``; with no file names and no git mode among them, on
    the index: a hook given no file names (``pass_filenames: false``) must not pass vacuously.
    """
    # the command's own settings: click keeps the help option made for the first context
    ctx = click.Context(command, info_name=command.name, **command.context_settings)
    scan = read_args(args, option_arity(command, ctx))
    if scan.paths or scan.options & set(modes):
        return list(args)
    return ["--staged", *args]


class StrictCommand(click.Command):
    """A command whose arguments each mean one thing (see the module's docstring)."""

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        takes_paths = any(isinstance(p, click.Argument) and p.nargs == -1 for p in self.params)
        if takes_paths and not ctx.resilient_parsing:
            refuse_ambiguous(read_args(args, option_arity(self, ctx)))
        rest = super().parse_args(ctx, args)
        if not ctx.resilient_parsing:
            refuse_blank(ctx)
        return rest


class StrictGroup(click.Group):
    """A group whose commands, and subgroups' commands, are :class:`StrictCommand`."""

    command_class = StrictCommand
    group_class = type  # subgroups are StrictGroups too
