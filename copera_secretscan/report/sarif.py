"""SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer), validated against the OASIS schema.

Choices that matter to users:

* One rule per token kind, always listed in the same order, so ``ruleIndex`` and the rule help
  (what the token can do, how to revoke it) are stable across runs; custom rule ids seen in the
  findings follow, sorted.
* ``partialFingerprints`` carries our line-independent fingerprint, so code scanning matches an
  alert across runs and pushes instead of opening a new one each time the line moves.
* No ``snippet``: a line can hold a second token that is baselined or allowed, and a snippet
  would print it whole. Viewers show the source from the repository anyway. The message holds
  only the redacted token (unless ``--show-secrets``).
* A token in a commit message has no file: it gets the pseudo-path ``commit-message/<sha>``
  (GitHub rejects results without a physical location) and a logical location naming it.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote

from .. import __version__, kinds
from ..engine.rules import BUILTIN_RULES, Rule, rule_by_id
from ..models import WORKTREE, Finding, ScanResult
from . import ReportOptions, kind_name, message_kind, rules_of, shown_secret, verdict
from .human import next_step, remediation

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL = "copera-secretscan"
FINGERPRINT_KEY = "coperaSecretscan/v1"  # bump the suffix if the fingerprint ever changes meaning
CUSTOM_SEVERITY = 8.0  # a custom rule's score: high, below a token that acts as a person
CWE_TAG = "external/cwe/cwe-798"  # use of hard-coded credentials
COMMIT_MESSAGE_DIR = "commit-message"


def security_severity(rule_id: str) -> float:
    """The score GitHub ranks alerts by (>= 9.0 critical, >= 7.0 high): the kind's, from the
    kinds table; a custom rule's default otherwise.

    A built-in rule without a kind row would silently get the custom default, ranking a leaked
    Copera token by accident, so that is an error rather than a guess.
    """
    kind = kinds.by_rule_id(rule_id)
    if kind is not None:
        return kind.severity
    if rule_by_id(BUILTIN_RULES, rule_id) is not None:
        raise LookupError(f"built-in rule {rule_id!r} has no row in the kinds table")
    return CUSTOM_SEVERITY


def _pascal(name: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in name.replace("-", " ").split())


def rule_descriptor(
    rule_id: str, rules: Tuple[Rule, ...] = BUILTIN_RULES, context: str = WORKTREE
) -> Dict[str, Any]:
    rule = rule_by_id(rules, rule_id)
    name = kind_name(rule_id, rules)
    acts_as = rule.acts_as if rule else "whatever the issuing service granted it"
    steps = remediation(rule_id, rules, context)
    what = f"{name} found in the repository" + (f" ({rule.prefix}…)" if rule else "")
    return {
        "id": rule_id,
        "name": _pascal(name),
        "shortDescription": {"text": f"{name} committed to the repository"},
        "fullDescription": {
            "text": f"{what}. It acts as {acts_as}; anyone who can read the repository or "
            "its history can use it until it is revoked."
        },
        "help": {
            "text": "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1)),
            "markdown": f"**{what}.** It acts as {acts_as}.\n\n"
            + "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1)),
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "security-severity": f"{security_severity(rule_id):.1f}",
            "precision": "high",
            "problem.severity": "error",
            "tags": ["security", "secret", "copera", CWE_TAG],
        },
    }


def rule_ids(result: ScanResult) -> List[str]:
    """Every kind's id in table order, then the custom rule ids the findings carry, sorted."""
    builtin = [kind.rule_id for kind in kinds.KINDS]
    custom = sorted({f.rule_id for f in result.findings} - set(builtin))
    return builtin + custom


def artifact_uri(path: str) -> str:
    """A valid URI reference for a path: percent-encoded UTF-8, ``file://`` if absolute.

    Encoding ``:`` matters: ``a:b.txt`` would otherwise read as a URI with scheme ``a``.
    """
    encoded = quote(path.encode("utf-8", "surrogateescape"), safe="/")
    if path.startswith("/"):
        return "file://" + encoded
    if len(path) > 2 and path[1] == ":" and path[2] == "/":  # a Windows drive: C:/x
        return "file:///" + path[:2] + encoded[4:]
    return encoded


def location(finding: Finding) -> Dict[str, Any]:
    region = {
        "startLine": finding.line,
        "startColumn": finding.column,
        "endLine": finding.end_line,
        "endColumn": finding.end_column,
    }
    if finding.root_path is not None:  # from the root: code scanning resolves it there
        where = {"uri": artifact_uri(finding.root_path)}
        if finding.in_name:  # no line holds it (a region starts at line 1): the artifact alone
            return {"physicalLocation": {"artifactLocation": where}}
        return {"physicalLocation": {"artifactLocation": where, "region": region}}
    # GitHub rejects a result without a physical location, so a commit message gets a stable
    # pseudo-path per commit (never a real file) plus a logical location that says what it is.
    commit = finding.commit or "unknown"
    return {
        "physicalLocation": {
            "artifactLocation": {
                "uri": f"{COMMIT_MESSAGE_DIR}/{commit}",
                "description": {"text": f"the message of commit {commit}"},
            },
            "region": region,
        },
        "logicalLocations": [
            {"name": "message", "fullyQualifiedName": f"commit/{commit}/message", "kind": "commit"}
        ],
    }


def message(
    finding: Finding,
    options: ReportOptions,
    rules: Tuple[Rule, ...] = BUILTIN_RULES,
    context: str = WORKTREE,
) -> str:
    where = f" in a {message_kind(finding)}" if finding.path is None else ""
    if finding.in_name:
        where = " in the name of this file or directory"
    if finding.commit:
        where += f" (introduced in commit {finding.commit})"
    kind = kind_name(finding.rule_id, rules)
    if finding.encoding:
        where += f", encoded as {' → '.join(finding.encoding)}"
    said = f" Copera: {verdict(finding)}." if finding.verification else ""
    return f"{kind} {shown_secret(finding, options)}{where}.{said} {next_step(context)}"


def result_entry(
    finding: Finding,
    index: int,
    options: ReportOptions,
    rules: Tuple[Rule, ...] = BUILTIN_RULES,
    context: str = WORKTREE,
) -> Dict[str, Any]:
    properties: Dict[str, Any] = {"redactedSecret": finding.redacted}
    if finding.commit:
        properties["commit"] = finding.commit
    if finding.encoding:
        properties["encoding"] = list(finding.encoding)
    if finding.verification is not None:  # scan --verify
        properties["verification"] = finding.verification
        properties["verificationDetail"] = finding.verification_detail
    history = getattr(finding, "history", None)  # set by history scans only
    if history is not None:
        properties["author"] = getattr(history, "author", "")
        properties["date"] = getattr(history, "date", "")
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "level": "error",
        "kind": "fail",
        "message": {"text": message(finding, options, rules, context)},
        "locations": [location(finding)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }


def invocation(result: ScanResult) -> Dict[str, Any]:
    """Errors become notifications, and an incomplete scan says so: it is never clean."""
    notes = [
        {
            "level": "error",
            "message": {"text": str(problem)},
        }
        for problem in result.problems
    ]
    notes += [{"level": "warning", "message": {"text": w}} for w in result.warnings]
    return {"executionSuccessful": not result.problems, "toolExecutionNotifications": notes}


def provenance(env: Mapping[str, str]) -> List[Dict[str, Any]]:
    """The revision CI checked out, when the CI tells us (GitHub Actions, GitLab CI)."""
    repo: Optional[str] = None
    if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY"):
        repo = f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}"
    repo = repo or env.get("CI_PROJECT_URL")
    if not repo:
        return []
    entry = {"repositoryUri": repo}
    revision = env.get("GITHUB_SHA") or env.get("CI_COMMIT_SHA")
    branch = env.get("GITHUB_REF_NAME") or env.get("CI_COMMIT_REF_NAME")
    entry.update({k: v for k, v in (("revisionId", revision), ("branch", branch)) if v})
    return [entry]


def build_log(result: ScanResult, options: ReportOptions, env: Mapping[str, str]) -> Dict[str, Any]:
    ids = rule_ids(result)
    index = {rule_id: n for n, rule_id in enumerate(ids)}
    run: Dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [
                    rule_descriptor(rule_id, rules_of(result), result.context) for rule_id in ids
                ],
            }
        },
        "invocations": [invocation(result)],
        "columnKind": "unicodeCodePoints",  # our columns count characters, not UTF-16 units
        "results": [
            result_entry(f, index[f.rule_id], options, rules_of(result), result.context)
            for f in result.findings
        ],
    }
    vcs = provenance(env)
    if vcs:
        run["versionControlProvenance"] = vcs
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_with(result: ScanResult, options: ReportOptions, env: Mapping[str, str]) -> str:
    return json.dumps(build_log(result, options, env), indent=2) + "\n"


def render(result: ScanResult, options: ReportOptions) -> str:
    return render_with(result, options, os.environ)
