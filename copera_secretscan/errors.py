"""The one exception that means "this run cannot continue".

Anything that makes a whole run meaningless (a bad config file, a corrupt baseline, git missing)
raises :class:`FatalError`; the CLI maps it to exit code 2 in one place. A problem with one
input (an unreadable file) is *not* fatal: sources report it as a :class:`~.models.Problem` and
the scan goes on, so the user sees every problem at once.
"""

from __future__ import annotations


class FatalError(Exception):
    """A one-line, user-facing reason why the run stops (exit code 2)."""


class PatternTimeout(FatalError):
    """A custom rule's body pattern ran past its time budget (catastrophic backtracking)."""
