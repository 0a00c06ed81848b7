"""``doctor``'s report: text for a person (colour on a terminal) or one JSON object.

Not in the FORMATS table: that table writes a scan's ScanResult, and a checkup is not one.
Tokens appear here only redacted (the pipeline's findings, already masked), and every path
and message is masked once more on the way out, as :func:`.writer` does for scans.
"""

from __future__ import annotations

import json
from typing import Dict, List, Sequence

from ..console import plural
from ..doctor import ADVICE, Checkup, Issue
from ..models import BUILTIN_PREFIXES, mask_tokens, printable
from . import ReportOptions
from .human import style

VERSION = 1
LABELS = {"problem": ("problem", "red"), ADVICE: ("advice ", "yellow")}


def render(checkup: Checkup, fmt: str, fixed: Sequence[str] = (), color: bool = False) -> str:
    """The report in ``fmt`` (text or json), listing what ``--fix`` changed first."""
    text = _json(checkup, fixed) if fmt == "json" else _text(checkup, fixed, color)
    return mask_tokens(text, BUILTIN_PREFIXES)


def _text(checkup: Checkup, fixed: Sequence[str], color: bool) -> str:
    options = ReportOptions(color=color)
    out = [style(f"fixed: {line}", "green", options) for line in fixed]
    for issue in checkup.issues:
        out += _issue(issue, options)
    out += [style(f"not checked: {note}", "yellow", options) for note in checkup.unchecked]
    out.append(summary(checkup, options))
    return "\n".join(out) + "\n"


def _issue(issue: Issue, options: ReportOptions) -> List[str]:
    label, colour = LABELS[issue.severity]
    where = f"{issue.path}: " if issue.path else ""
    fix = f"    fix: {issue.fix}" + (" (--fix does this)" if issue.fixable else "")
    return [f"{style(label, colour, options)} {where}{issue.message}", fix]


def summary(checkup: Checkup, options: ReportOptions) -> str:
    problems = len(checkup.problems)
    advice = len(checkup.issues) - problems
    said = f"; {plural(advice, 'suggestion')}" if advice else ""
    if problems:
        fixable = sum(issue.fixable for issue in checkup.problems)
        can = f" ({fixable} fixable with --fix)" if fixable else ""
        return style(f"Token hygiene: {plural(problems, 'problem')}{can}{said}.", "red", options)
    if checkup.unchecked:
        return style(f"Token hygiene: incomplete (see above){said}.", "yellow", options)
    return style(f"Token hygiene: healthy{said}.", "green", options)


def _json(checkup: Checkup, fixed: Sequence[str]) -> str:
    doc: Dict[str, object] = {
        "version": VERSION,
        "root": None if checkup.root is None else printable(checkup.root),
        "healthy": not checkup.problems and not checkup.unchecked,
        "issues": [_issue_json(issue) for issue in checkup.issues],
        "not_checked": list(checkup.unchecked),
        "fixed": list(fixed),
        "stats": {"files_scanned": checkup.files},
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _issue_json(issue: Issue) -> Dict[str, object]:
    return {
        "kind": issue.kind,
        "severity": issue.severity,
        "path": issue.path,
        "message": issue.message,
        "fix": issue.fix,
        "fixable": issue.fixable,
    }
