"""The JSON report: ``version``, ``findings``, ``errors``, ``stats``; keys keep their meaning."""

from __future__ import annotations

import json
from typing import Any, Dict, Tuple

from ..engine.rules import BUILTIN_RULES, Rule
from ..models import WORKTREE, Finding, ScanResult
from . import ReportOptions, place_count, rules_of, shown_secret, token_count
from .human import remediation

VERSION = 1
_HISTORY_KEYS = ("author", "date", "commits", "present_at_head")


def finding_dict(
    finding: Finding,
    options: ReportOptions,
    rules: Tuple[Rule, ...] = BUILTIN_RULES,
    context: str = WORKTREE,
) -> Dict[str, Any]:
    entry = _core_dict(finding, options)
    # What to do, in order, from the kinds table and where the token sits (as SARIF's help).
    entry["remediation"] = remediation(finding.rule_id, rules, context)
    history = finding.history
    if history is not None:  # git history: first author and date, commits, still at HEAD
        entry.update({key: getattr(history, key) for key in _HISTORY_KEYS})
        if history.tag is not None:  # a tag message: `commit` is the commit the tag points at
            entry["tag"] = history.tag
        if history.refs is not None:  # the branches, tags and stash entries that still reach it
            entry["refs"] = list(history.refs)
    return entry


def _core_dict(finding: Finding, options: ReportOptions) -> Dict[str, Any]:
    entry: Dict[str, Any] = {
        "rule_id": finding.rule_id,
        "path": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "secret": shown_secret(finding, options),
        "fingerprint": finding.fingerprint,
        "commit": finding.commit,
        "location": finding.location,  # content | path (a token in a name) | message
        "encoding": list(finding.encoding),  # decodings that found it, outermost first; [] plain
    }
    if finding.verification is not None:  # scan --verify: live | invalid | unknown, and why
        entry["verification"] = finding.verification
        entry["verification_detail"] = finding.verification_detail
    return entry


def render(result: ScanResult, options: ReportOptions) -> str:
    report: Dict[str, Any] = {
        "version": VERSION,
        "findings": [
            finding_dict(f, options, rules_of(result), result.context) for f in result.findings
        ],
        "errors": [{"path": p.path, "message": p.message} for p in result.problems],
        "stats": {
            "files": result.files,
            "bytes": result.bytes,
            "seconds": round(result.seconds, 3),
            "suppressed": result.suppressed,
            "tokens": token_count(result.findings),  # distinct tokens: what to revoke
            "places": place_count(result.findings),  # the files and messages holding them
        },
    }
    if result.scanned:  # what a git scan covered and why (scan --ci's range and event)
        report["scanned"] = result.scanned
    if result.unrotated:  # tokens the baseline hides though marked real leaks (issue 12)
        report["unrotated"] = [leak._asdict() for leak in result.unrotated]
    return json.dumps(report, indent=2) + "\n"
