"""The one argument grammar: which arguments are options, option values and paths, read the way
click's parser reads them, with nothing but ``os``.

The full CLI reads its arguments with :func:`read_args` to refuse what it must not guess at
(see ``cli/args.py``), building the option table from click's own parameter objects. The lean
hook check (:mod:`.quick`) reads them with the same function and a table of the few options it
understands, and hands anything else to the CLI: there is no second parser to drift.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

    Arity = Dict[str, Tuple[str, int]]  # option spelling -> (parameter name, values it takes)


class ArgScan:
    """An argument list read the way click reads it, without converting anything.

    A plain class: a dataclass or a named tuple would cost the lean check more to define than
    reading the arguments does.
    """

    __slots__ = ("options", "paths", "suspects", "unknown", "values")

    def __init__(
        self,
        options: FrozenSet[str],  # names of the parameters given as options
        paths: Tuple[str, ...],  # positional arguments, those after ``--`` included
        suspects: Tuple[str, ...],  # what starts with ``-`` and is not an option's value
        values: Tuple[Tuple[str, Optional[str]], ...],  # (parameter, value); None: missing
        unknown: Tuple[str, ...],  # option arguments the table does not (wholly) know
    ) -> None:
        self.options = options
        self.paths = paths
        self.suspects = suspects
        self.values = values
        self.unknown = unknown


def read_args(args: Sequence[str], arity: Arity) -> ArgScan:
    """Which arguments are options, option values and paths, as click's parser will see them."""
    options: List[str] = []
    paths: List[str] = []
    suspects: List[str] = []
    values: List[Tuple[str, Optional[str]]] = []
    unknown: List[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            suspects.append(arg)
        if arg == "--":
            paths.extend(args[i + 1 :])
            break
        if arg == "-" or not arg.startswith("-"):
            paths.append(arg)
            i += 1
            continue
        names, takes, inline, known = _option_token(arg, arity)
        options.extend(names)
        given: List[Optional[str]] = [inline] if inline is not None else []
        given += [*args[i + 1 : i + 1 + takes], *[None] * (i + 1 + takes - len(args))]
        values.extend((names[-1], value) for value in given)
        if not known:
            unknown.append(arg)
        i += 1 + takes
    return ArgScan(frozenset(options), tuple(paths), tuple(suspects), tuple(values), tuple(unknown))


def _option_token(arg: str, arity: Arity) -> Tuple[List[str], int, Optional[str], bool]:
    """The parameters ``arg`` sets, how many following arguments are their values, the value
    ``arg`` carries itself (or None), and whether the table knew all of it.

    ``--name=value`` and ``-oVALUE`` carry their value; ``-qo VALUE`` is a cluster of short
    options whose last one takes the next argument. An unknown option takes nothing (click
    refuses it anyway).
    """
    head, equals, tail = arg.partition("=")
    if head in arity:
        name, takes = arity[head]
        if equals and takes:
            return [name], takes - 1, tail, True
        return [name], takes, None, not equals
    names: List[str] = []
    if arg.startswith("--"):
        return names, 0, None, False
    for at in range(1, len(arg)):
        found = arity.get("-" + arg[at])
        if found is None:
            return names, 0, None, False
        names.append(found[0])
        if found[1]:
            rest = arg[at + 1 :]
            return names, found[1] - (1 if rest else 0), rest or None, True
    return names, 0, None, True


def ambiguous(arg: str) -> bool:
    """Whether ``arg`` reads as an option (``-`` and ``--`` too) and also names a path here.

    pre-commit appends file names after the hook's arguments with no ``--``, so a committed file
    named ``--exit-zero`` would switch the gate off and ``--show-secrets`` would print tokens.
    The full CLI and the lean check ask this one question; the CLI alone knows which arguments
    are the values of options (those are exempt), so the lean check hands any "yes" over to it.
    """
    return arg[:1] == "-" and os.path.lexists(arg)
