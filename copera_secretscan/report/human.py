"""What every human-facing report says the same way: colours, where a token is, its line masked,
and what to do about it.

The per-file text report (:mod:`.text`), the history report (:mod:`.grouped`) and JUnit's
failure text all import these from here, so a finding reads alike in each and no report module
imports another for them.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from ..engine.rules import BUILTIN_RULES, Rule, rule_by_id
from ..models import HISTORY, PUSHED, STAGED, WORKTREE, Finding, inert, mask_tokens, printable
from . import ReportOptions, shown_secret

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
        line = mask_tokens(line, prefixes)
    at = line.find(shown_secret(finding, options))
    if len(line) > _LINE_WIDTH:
        start = max(0, at - _LINE_WIDTH // 2)
        line = ("…" if start else "") + line[start : start + _LINE_WIDTH].strip() + "…"
    return inert(line.strip())


NAME_ADVICE = "rename it; git keeps the old name in history"


def context_line(finding: Finding, options: ReportOptions, rules: Tuple[Rule, ...]) -> str:
    """``line: …`` with the token's line masked, or what to do about a token in a name."""
    if finding.in_name:
        return f"name: {NAME_ADVICE}"
    return f"line: {masked_line(finding, options, rules)}"


# What to do about where the token sits, after revoking it (the kind's own text says how).
# A token only staged never reached history, so a rewrite is needless advice; one in commits
# about to be pushed can still be dropped by rewriting them; one in history is in every clone.
_NEXT_STEPS = {
    STAGED: "It is not in git history yet: revoke it all the same (it was on disk), remove it "
    "from the file and `git add` the file again; no history rewrite is needed.",
    PUSHED: "Not pushed yet: rewriting the local commits that hold it (`git rebase -i`, "
    "`git commit --amend`) before pushing is enough. Already pushed: revoke it, then rewrite "
    "history (`git filter-repo --replace-text`) and force-push.",
    HISTORY: "It is in git history: revoke it now, then rewrite history (`git filter-repo "
    "--replace-text`) and force-push; a rewrite does not make the old token safe, revoking does.",
    WORKTREE: "Remove it from the file; if it was ever committed, `scan --history` finds it there.",
}


def next_step(context: str) -> str:
    """What to do about a token in this context (``ScanResult.context``): the one sentence
    every report that gives advice uses, beside the kind's own revoke text."""
    return _NEXT_STEPS.get(context, _NEXT_STEPS[HISTORY])


def advice(rule: Optional[Rule], context: str = WORKTREE, indent: str = "  ") -> List[str]:
    """Who the token acts as and what to do now: the lines every human-facing report ends with."""
    if rule is None:
        return []
    return [
        f"{indent}acts as: {rule.acts_as}",
        f"{indent}fix now: {rule.revoke}",
        f"{indent}   then: {next_step(context)}",
    ]


def remediation(
    rule_id: str, rules: Tuple[Rule, ...] = BUILTIN_RULES, context: str = WORKTREE
) -> List[str]:
    """What to do, in order: revoke first, because anyone who fetched the token already has it;
    then what fits where it sits (staged, pushed, in history: :func:`next_step`). SARIF help,
    GitLab's solution and JSON's ``remediation`` all read it from here."""
    rule = rule_by_id(rules, rule_id)
    revoke = rule.revoke if rule else "Revoke or rotate it with the service that issued it."
    return [
        revoke,
        "Rotate: give the new token to the code through your CI/CD secret store or an "
        "environment variable, never through the repository.",
        next_step(context),
        "If it is a test value, not a real token, mark the line with "
        "`copera-secretscan: allow` or accept it in the baseline.",
    ]
