"""GitLab's secret-detection report (``gl-secret-detection-report.json``) for the security widget.

It follows GitLab's published security report schema, version :data:`SCHEMA_VERSION`. Choices:

* The vulnerability ``id`` is a UUID derived from our fingerprint and position, so the same
  scan gives the same report and GitLab does not see a "new" finding on every pipeline.
* ``raw_source_code_extract`` is left out on purpose: it would hold the token. The redacted
  token (the whole one only with ``--show-secrets``) goes in ``details``.
* ``location.commit.sha`` is required by the schema: a history finding carries its own commit;
  a working-tree finding gets the pipeline's ``CI_COMMIT_SHA``, or ``0000000`` outside GitLab
  (what GitLab's own analyzer writes when it scans files rather than commits).
* A token in a commit message has no ``file``; its description says where it is.
* Start and end times need a clock; :func:`render_with` takes one so reports can be compared.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .. import __version__
from ..engine.rules import BUILTIN_RULES, Rule, rule_by_id
from ..models import WORKTREE, Finding, ScanResult
from . import ReportOptions, disguise, kind_name, message_kind, rules_of, shown_secret, verdict
from .human import remediation
from .sarif import rule_ids, security_severity

SCHEMA_VERSION = "15.2.1"
SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{SCHEMA_VERSION}/dist/secret-detection-report-format.json"
)
TOOL = "copera-secretscan"
NO_COMMIT = "0000000"
_IDS = uuid.UUID("6f1c1f5e-4a53-5cf4-9d0e-7c0b0e5a7c11")  # namespace for our vulnerability ids
_TIME = "%Y-%m-%dT%H:%M:%S"  # the schema's format: UTC, no zone, no fraction


# GitHub code scanning's bands for a security-severity score, in GitLab's words.
SEVERITY_WORDS = ((9.0, "Critical"), (7.0, "High"), (4.0, "Medium"), (0.1, "Low"))


def severity(rule_id: str) -> str:
    """GitLab's word for the score code scanning uses, so both dashboards rank a kind alike."""
    score = security_severity(rule_id)
    return next((word for floor, word in SEVERITY_WORDS if score >= floor), "Info")


def identifier(rule_id: str) -> Dict[str, str]:
    return {"type": "copera_secretscan_rule", "name": f"{TOOL} {rule_id}", "value": rule_id}


def description(finding: Finding, rules: Tuple[Rule, ...] = BUILTIN_RULES) -> str:
    rule = rule_by_id(rules, finding.rule_id)
    path = finding.root_path
    where = f"in a {message_kind(finding)}" if path is None else f"in `{path}`"
    if finding.in_name:
        where = f"in the name of `{path}`"
    if finding.commit:
        where += f" (introduced in commit {finding.commit})"
    acts = f" It acts as {rule.acts_as}." if rule else ""
    kind = kind_name(finding.rule_id, rules) + disguise(finding)
    said = f" Copera: {verdict(finding)}." if finding.verification else ""
    return f"A {kind} was committed {where}.{acts}{said}"


def commit_of(finding: Finding, env: Mapping[str, str]) -> Dict[str, str]:
    commit: Dict[str, str] = {"sha": finding.commit or env.get("CI_COMMIT_SHA") or NO_COMMIT}
    history = getattr(finding, "history", None)  # set by history scans only
    for key in ("author", "date"):
        value = getattr(history, key, None)
        if value:
            commit[key] = str(value)
    return commit


def location(finding: Finding, env: Mapping[str, str]) -> Dict[str, Any]:
    place: Dict[str, Any] = {"commit": commit_of(finding, env)}
    if not finding.in_name:  # a token in a name is on no line
        place.update(start_line=finding.line, end_line=finding.end_line)
    if finding.root_path is not None:  # GitLab resolves it from the repository root
        place["file"] = finding.root_path
    return place


def details(finding: Finding, options: ReportOptions) -> Dict[str, Any]:
    found = {
        "token": {"name": "Token", "type": "text", "value": shown_secret(finding, options)},
        "fingerprint": {"name": "Fingerprint", "type": "text", "value": finding.fingerprint},
    }
    if finding.commit:
        found["commit"] = {"name": "Commit", "type": "commit", "value": finding.commit}
    return found


def vulnerability(
    finding: Finding,
    options: ReportOptions,
    env: Mapping[str, str],
    rules: Tuple[Rule, ...] = BUILTIN_RULES,
    context: str = WORKTREE,
) -> Dict[str, Any]:
    seed = f"{finding.fingerprint}:{finding.commit}:{finding.line}:{finding.column}"
    return {
        "id": str(uuid.uuid5(_IDS, seed)),
        "category": "secret_detection",
        "name": kind_name(finding.rule_id, rules),
        "description": description(finding, rules),
        "severity": severity(finding.rule_id),
        "solution": " ".join(remediation(finding.rule_id, rules, context)),
        "identifiers": [identifier(finding.rule_id)],
        "location": location(finding, env),
        "details": details(finding, options),
    }


def scan_section(result: ScanResult, now: datetime) -> Dict[str, Any]:
    me = {"id": TOOL, "name": TOOL, "version": __version__, "vendor": {"name": TOOL}}
    end = now.astimezone(timezone.utc)
    start = end - timedelta(seconds=max(result.seconds, 0.0))
    messages: List[Dict[str, str]] = [{"level": "warn", "value": str(p)} for p in result.problems]
    messages += [{"level": "info", "value": w} for w in result.warnings]
    return {
        "analyzer": me,
        "scanner": me,
        "type": "secret_detection",
        "start_time": start.strftime(_TIME),
        "end_time": end.strftime(_TIME),
        "status": "failure" if result.problems else "success",  # incomplete is never a pass
        "messages": messages,
        "primary_identifiers": [identifier(rule_id) for rule_id in rule_ids(result)],
    }


def build_report(
    result: ScanResult,
    options: ReportOptions,
    now: Optional[datetime] = None,
    env: Optional[Mapping[str, str]] = None,
) -> Dict[str, Any]:
    env = os.environ if env is None else env
    return {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": scan_section(result, now or datetime.now(timezone.utc)),
        "vulnerabilities": [
            vulnerability(f, options, env, rules_of(result), result.context)
            for f in result.findings
        ],
    }


def render_with(
    result: ScanResult,
    options: ReportOptions,
    now: Optional[datetime] = None,
    env: Optional[Mapping[str, str]] = None,
) -> str:
    return json.dumps(build_report(result, options, now, env), indent=2) + "\n"


def render(result: ScanResult, options: ReportOptions) -> str:
    return render_with(result, options)
