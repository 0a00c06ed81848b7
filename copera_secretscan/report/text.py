"""The human report: where, which kind, the line with the token masked, and what to do now."""

from __future__ import annotations

from collections import Counter
from typing import List, Optional, Tuple

from ..models import REDACT_KEEP, Finding, ScanResult, inert, mask_tokens, printable
from ..rules import BUILTIN_RULES, Rule, rule_by_id
from . import ReportOptions, kind_name, shown_secret

_STYLES = {"bold": "1", "red": "31", "yellow": "33", "dim": "2", "green": "32"}
_LINE_WIDTH = 120  # characters of the offending line shown around the token


def style(text: str, name: str, options: ReportOptions) -> str:
    return f"\033[{_STYLES[name]}m{text}\033[0m" if options.color else text


def location(finding: Finding) -> str:
    if finding.path is None:
        where = f"commit message:{finding.line}:{finding.column}"
    elif finding.in_name:
        where = printable(finding.path)
    else:
        where = f"{printable(finding.path)}:{finding.line}:{finding.column}"
    return f"{where} (commit {finding.commit[:12]})" if finding.commit else where


def masked_line(
    finding: Finding, options: ReportOptions, rules: Tuple[Rule, ...] = BUILTIN_RULES
) -> str:
    """The token's line with every token on it redacted (this one, others found or accepted,
    custom rules' too), trimmed to a readable width around this one."""
    line = finding.line_text
    if not options.show_secrets:
        line = line.replace(finding.secret, finding.redacted)
        prefixes = [finding.prefix, *(rule.prefix for rule in rules)]
        line = mask_tokens(line, prefixes, shortest=REDACT_KEEP + 1)
    at = line.find(shown_secret(finding, options))
    if len(line) > _LINE_WIDTH:
        start = max(0, at - _LINE_WIDTH // 2)
        line = ("…" if start else "") + line[start : start + _LINE_WIDTH].strip() + "…"
    return inert(line.strip())


def render_finding(
    finding: Finding, options: ReportOptions, rules: Tuple[Rule, ...] = BUILTIN_RULES
) -> List[str]:
    rule = rule_by_id(rules, finding.rule_id)
    head = f"{location(finding)}: {kind_name(finding.rule_id, rules)} ({finding.rule_id})"
    lines = [
        style(head + (" in a file or directory name" if finding.in_name else ""), "bold", options),
        f"    token: {style(shown_secret(finding, options), 'red', options)}",
        f"     {context_line(finding, options, rules)}",
    ]
    return [*lines, *advice(rule), ""]


NAME_ADVICE = "rename it; git keeps the old name in history"


def context_line(finding: Finding, options: ReportOptions, rules: Tuple[Rule, ...]) -> str:
    """``line: …`` with the token's line masked, or what to do about a token in a name."""
    if finding.in_name:
        return f"name: {NAME_ADVICE}"
    return f"line: {masked_line(finding, options, rules)}"


def advice(rule: Optional[Rule], indent: str = "  ") -> List[str]:
    """Who the token acts as and what to do now: the lines every human-facing report ends with."""
    if rule is None:
        return []
    return [f"{indent}acts as: {rule.acts_as}", f"{indent}fix now: {rule.revoke}"]


def summary(result: ScanResult, options: ReportOptions) -> str:
    scanned = f"{result.files} file{'s' if result.files != 1 else ''} scanned"
    if result.suppressed:
        scanned += f", {result.suppressed} allowed"
    if not result.findings and result.problems:
        errors = f"{len(result.problems)} error{'s' if len(result.problems) != 1 else ''}"
        return style(
            f"Scan incomplete: {errors} (see above); no Copera tokens in what could be read "
            f"({scanned}).",
            "yellow",
            options,
        )
    if not result.findings:
        return style(f"No Copera tokens found ({scanned}).", "green", options)
    kinds = Counter(kind_name(f.rule_id, result.rules) for f in result.findings)
    detail = ", ".join(f"{count} {name}" for name, count in sorted(kinds.items()))
    places = len({(f.path, f.commit) for f in result.findings})
    noun = "token" if len(result.findings) == 1 else "tokens"
    where = f"{places} place{'s' if places != 1 else ''}"
    return style(
        f"Found {len(result.findings)} Copera {noun} in {where}: {detail} ({scanned}).",
        "red",
        options,
    )


def render(result: ScanResult, options: ReportOptions) -> str:
    if options.quiet and not result.findings:
        return ""
    if any(finding.history is not None for finding in result.findings):
        from . import grouped  # git history: one block per token, not per commit

        return grouped.render(result, options)
    out: List[str] = []
    for finding in result.findings:
        out.extend(render_finding(finding, options, result.rules))
    out.append(summary(result, options))
    return "\n".join(out) + "\n"
