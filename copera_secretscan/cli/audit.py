"""The interactive ``baseline audit``: the questions asked, entry by entry, and the answers read.

:mod:`.baseline` holds the command and its options; this module only asks and saves, so the
command module stays a table of options. Each answer is saved at once: quitting, Ctrl-C or the
end of input never loses one already given.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Optional, Sequence, Tuple

import click

from ..config.settings import Settings, shown_path
from ..models import printable

if TYPE_CHECKING:  # the baseline modules load when a baseline command runs, not at start-up
    from ..baseline.records import Baseline, Entry


def not_a_date(value: str) -> str:
    return f"{printable(value)!r} is not a date as YYYY-MM-DD (- removes the expiry)"


def audit_interactively(
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
    """Record ``decision``, then the reason and expiry asked for (the current values are the
    defaults); True when input ended at one of those questions. Each step is saved at once."""
    from ..baseline import file as baselinefile
    from ..baseline import records as baseline

    reason = _ask("Reason (optional)" + _shown_default(entry.reason), default=entry.reason or "")
    typed = baselinefile.clean_text(reason or "").strip()  # a pasted tab could not be read back
    why = entry.reason if reason is None else ("" if typed == "-" else typed)  # ended: kept
    known = baseline.with_decision(known, entry.digest, decision, why)
    baselinefile.save(known, shown_path(target))
    if reason is None:
        return known, True
    expires = _ask_date(entry.expires)
    if expires is None:
        return known, True
    reason_now = known.by_digest()[entry.digest].reason
    known = baseline.with_details(known, entry.digest, reason_now, expires)
    baselinefile.save(known, shown_path(target))
    return known, False


def _shown_default(value: Optional[str]) -> str:
    return f" [{value}; - removes it]" if value else ""


def _ask_date(current: Optional[str]) -> Optional[str]:
    """The expiry typed (``""``: none), asked again until it is a date; None at end of input."""
    from ..baseline import file as baselinefile

    while True:
        text = "Expires on YYYY-MM-DD (optional)" + _shown_default(current)
        answer = _ask(text, default=current or "")
        if answer is None or answer in ("", "-") or baselinefile.is_date(answer):
            return answer if answer != "-" else ""
        click.echo(f"Error: {not_a_date(answer)}.")


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
