"""GitHub Actions workflow commands: each finding becomes an error annotation on the PR diff.

The escaping is GitHub's own (the ``@actions/core`` toolkit): in the message ``%``, CR and LF
are percent-encoded, and in property values ``:`` and ``,`` are too, because they separate the
properties. It also keeps the output safe: a file named ``x\\n::add-mask::`` or
``x\\n::stop-commands::`` cannot start a workflow command of its own on a new line.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from ..engine.rules import BUILTIN_RULES, rule_by_id
from ..models import WORKTREE, Finding, Problem, ScanResult
from . import ReportOptions, disguise, kind_name, message_kind, shown_secret, verdict
from .human import next_step
from .text import summary

STDIN = "-"
_DATA = (("%", "%25"), ("\r", "%0D"), ("\n", "%0A"))
_PROPERTY = (*_DATA, (":", "%3A"), (",", "%2C"))


def escape_data(text: str) -> str:
    for raw, encoded in _DATA:
        text = text.replace(raw, encoded)
    return text


def escape_property(text: str) -> str:
    for raw, encoded in _PROPERTY:  # "%" first, so the escapes themselves are not re-escaped
        text = text.replace(raw, encoded)
    return text


def command(name: str, message: str, properties: List[Tuple[str, Optional[object]]]) -> str:
    props = ",".join(
        f"{key}={escape_property(str(value))}" for key, value in properties if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def finding_message(finding: Finding, options: ReportOptions, context: str = WORKTREE) -> str:
    rule = rule_by_id(BUILTIN_RULES, finding.rule_id)
    where = f" in this {message_kind(finding)}" if finding.path is None else ""
    if finding.in_name:
        where = " in the name of this file or directory"
    if finding.commit:
        where += f" (introduced in commit {finding.commit})"
    text = (
        f"{kind_name(finding.rule_id)}{disguise(finding)} {shown_secret(finding, options)}{where}"
    )
    if finding.verification:
        text += f"\nCopera: {verdict(finding)}."
    if rule is not None:
        text += f"\nIt acts as {rule.acts_as}.\n{rule.revoke}"
    return f"{text}\n{next_step(context)}"


def annotation(finding: Finding, options: ReportOptions, context: str = WORKTREE) -> str:
    """``::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message``."""
    title = f"Copera token leaked: {kind_name(finding.rule_id)} ({finding.rule_id})"
    if finding.root_path in (None, STDIN):  # no file to point at: a job-level annotation
        return command("error", finding_message(finding, options, context), [("title", title)])
    # GitHub resolves ``file`` from the repository root, whatever directory the job ran in
    position: List[Tuple[str, Optional[object]]] = [("file", finding.root_path)]
    if not finding.in_name:  # a name has no line to annotate: the file itself is annotated
        position += [
            ("line", finding.line),
            ("col", finding.column),
            ("endLine", finding.end_line),
            ("endColumn", finding.end_column),
        ]
    position.append(("title", title))
    return command("error", finding_message(finding, options, context), position)


def problem_annotation(problem: Problem) -> str:
    title = "copera-secretscan: scan incomplete"
    text = str(problem)
    where = problem.root_path if problem.path != STDIN else None
    return command("error", text, [("file", where), ("title", title)])


def render(result: ScanResult, options: ReportOptions) -> str:
    lines = [annotation(finding, options, result.context) for finding in result.findings]
    lines += [problem_annotation(problem) for problem in result.problems]
    lines += [command("warning", warning, []) for warning in result.warnings]
    if options.quiet and not lines:
        return ""
    # The summary is plain log text, not a command, so the job log still says what happened.
    lines.append(summary(result, ReportOptions(show_secrets=options.show_secrets)))
    return "\n".join(lines) + "\n"
