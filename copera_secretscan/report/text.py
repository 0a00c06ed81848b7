"""The human report: where, which kind, the line with the token masked, and what to do now."""

from __future__ import annotations

from typing import List, Tuple

from ..console import clean_line, plural
from ..engine.rules import BUILTIN_RULES, Rule, rule_by_id
from ..models import LIVE, WORKTREE, Finding, ScanResult
from . import (
    ReportOptions,
    disguise,
    file_unit,
    found_summary,
    grouped,
    kind_name,
    rules_of,
    scanned,
    shown_secret,
    verdict,
    verdict_tally,
)
from .human import advice, context_line, location, style


def render_finding(
    finding: Finding,
    options: ReportOptions,
    rules: Tuple[Rule, ...] = BUILTIN_RULES,
    context: str = WORKTREE,
) -> List[str]:
    rule = rule_by_id(rules, finding.rule_id)
    kind = kind_name(finding.rule_id, rules) + disguise(finding)
    head = f"{location(finding)}: {kind} ({finding.rule_id})"
    lines = [
        style(head + (" in a file or directory name" if finding.in_name else ""), "bold", options),
        f"    token: {style(shown_secret(finding, options), 'red', options)}",
        f"     {context_line(finding, options, rules)}",
    ]
    if finding.verification:  # scan --verify: live ones come first and stand out
        colour = "red" if finding.verification == LIVE else "yellow"
        lines.insert(2, f"   copera: {style(verdict(finding), colour, options)}")
    return [*lines, *advice(rule, context), ""]


def summary(result: ScanResult, options: ReportOptions) -> str:
    if not result.findings and result.problems:
        errors = plural(len(result.problems), "error")
        return style(
            f"Scan incomplete: {errors} (see above); no Copera tokens in what could be read "
            f"({scanned(result)}).",
            "yellow",
            options,
        )
    if not result.findings:
        clean = clean_line(result.files, result.suppressed, file_unit(result))
        if result.unrotated:  # "no tokens" would read false while a real leak is only hidden
            hidden = plural(len(result.unrotated), "real leak")
            clean = f"{clean[:-1]}; the baseline still hides {hidden} to rotate (see the warning)."
            return style(clean.replace("No Copera", "No new Copera", 1), "yellow", options)
        return style(clean, "green", options)
    return style(found_summary(result), "red", options)


def render(result: ScanResult, options: ReportOptions) -> str:
    if options.quiet and not result.findings:
        return ""
    # What a git scan covered, and why (a CI range and its event): first, so a log says it even
    # when the findings scroll past.
    head = style(f"Scanned {result.scanned}.", "dim", options) + "\n" if result.scanned else ""
    if any(finding.history is not None for finding in result.findings):
        return head + grouped.render(result, options)  # history: one block per token
    out: List[str] = []
    for finding in result.findings:
        out.extend(render_finding(finding, options, rules_of(result), result.context))
    out.append(summary(result, options))
    tally = verdict_tally(result.findings)
    if tally:
        out.append(tally)
    return head + "\n".join(out) + "\n"
