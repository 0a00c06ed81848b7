"""The human report for git history and range scans: one block per token, not per commit.

A token leaked in 40 commits is one problem to fix (revoke it once), so the block leads with
the token and its first appearance, then lists where it lives: each path (or commit message)
with the commit that first wrote it there.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

from ..console import plural
from ..engine.rules import BUILTIN_RULES, Rule, rule_by_id
from ..models import HISTORY, LIVE, Finding, ScanResult, printable
from . import (
    ReportOptions,
    found_summary,
    kind_name,
    rules_of,
    shown_secret,
    verdict,
    verdict_tally,
)
from .human import NAME_ADVICE, advice, masked_line, style


def render(result: ScanResult, options: ReportOptions) -> str:
    out: List[str] = []
    for group in _by_token(result.findings):
        out.extend(render_token(group, options, rules_of(result), result.context))
    out.append(history_summary(result, options))
    tally = verdict_tally(result.findings)
    if tally:
        out.append(tally)
    return "\n".join(out) + "\n"


def history_summary(result: ScanResult, options: ReportOptions) -> str:
    """Counts tokens (what to revoke), not findings: one token may sit in many places."""
    return style(found_summary(result), "red", options)


def _by_token(findings: Tuple[Finding, ...]) -> List[List[Finding]]:
    """Findings grouped by (rule, token), oldest appearance first within each group."""
    groups: Dict[Tuple[str, str], List[Finding]] = {}
    for finding in findings:
        groups.setdefault((finding.rule_id, finding.secret), []).append(finding)
    ordered = [sorted(group, key=_age) for group in groups.values()]
    return sorted(ordered, key=lambda group: (_not_live(group[0]), _age(group[0])))


def _not_live(finding: Finding) -> bool:
    """False for a token ``scan --verify`` found live: those are listed first."""
    return finding.verification != LIVE


def _age(finding: Finding) -> Tuple[str, bool, str]:
    date = finding.history.date if finding.history else ""
    return (date, finding.path is None, finding.path or "")


def render_token(
    group: List[Finding],
    options: ReportOptions,
    rules: Tuple[Rule, ...] = BUILTIN_RULES,
    context: str = HISTORY,
) -> List[str]:
    first = group[0]
    head = f"{shown_secret(first, options)}: {kind_name(first.rule_id, rules)} ({first.rule_id})"
    lines = [style(head, "bold", options), f"  first seen: {_when(first)}"]
    if first.verification:  # scan --verify: the same answer for every finding of the token
        lines.insert(1, f"      copera: {verdict(first)}")
    commits = _spread(group)
    paths = len({f.path for f in group if f.path})
    lines.append(
        f"      spread: {plural(commits, 'commit')}, {plural(paths, 'path')}; {_head(group)}"
    )
    reach = _reachable(group)
    if reach:
        lines.append(f"  reachable from: {reach}")
    for finding in group:
        lines.append(f"    {_where(finding)}")
        lines.append(f"        {_context(finding, options, rules)}")
    return [*lines, *advice(rule_by_id(rules, first.rule_id), context, indent=" " * 5), ""]


def _context(finding: Finding, options: ReportOptions, rules: Tuple[Rule, ...]) -> str:
    return f"({NAME_ADVICE})" if finding.in_name else masked_line(finding, options, rules)


def _spread(group: List[Finding]) -> int:
    """Distinct commits carrying the token: adding up each path's count would count one commit
    that wrote it into two places (a file and its message) twice."""
    distinct = [f.history.token_commits for f in group if f.history and f.history.token_commits]
    return max(distinct) if distinct else sum(f.history.commits for f in group if f.history)


SHOWN_REFS = 5  # refs named in the text; the rest are counted (JSON lists them all)


def _reachable(group: List[Finding]) -> str:
    """``main, v1.2, stash@{0}`` and ``and N more``: where a history rewrite must reach."""
    refs: List[str] = []
    for finding in group:
        if finding.history is not None and finding.history.refs:
            refs += [ref for ref in finding.history.refs if ref not in refs]
    shown = ", ".join(printable(ref) for ref in refs[:SHOWN_REFS])
    more = len(refs) - SHOWN_REFS
    return f"{shown} and {more} more" if more > 0 else shown


def _when(finding: Finding) -> str:
    commit = finding.commit[:12] if finding.commit else "(no commit)"
    if finding.history is None:
        return commit
    if finding.history.tag is not None:
        commit = f"tag {printable(finding.history.tag)} on commit {commit}"
    else:
        commit = f"commit {commit}"
    return f"{commit} by {printable(finding.history.author)}, {finding.history.date[:10]}"


def _where(finding: Finding) -> str:
    commit = f"commit {finding.commit[:12]}" if finding.commit else "no commit"
    place = f"line {finding.line}, column {finding.column}"
    tag = finding.history.tag if finding.history else None
    if tag is not None:  # the tag's own message, not the message of the commit it points at
        return f"tag {printable(tag)} message {place} (on {commit})"
    if finding.path is None:
        return f"commit message {place} ({commit})"
    if finding.in_name:
        return f"{printable(finding.path)} (in the name) ({commit})"
    return f"{printable(finding.path)}:{finding.line}:{finding.column} ({commit})"


def _head(group: List[Finding]) -> str:
    states = {f.history.present_at_head for f in group if f.history}
    if True in states:
        return "still at HEAD"
    if False in states:
        return "gone from HEAD, still in history"
    if any(f.path for f in group):
        return "HEAD not checked"  # git failed before HEAD was read; the errors say why
    kinds = {"tag" if f.history and f.history.tag else "commit" for f in group}
    return f"in {' and '.join(sorted(kinds))} messages"
