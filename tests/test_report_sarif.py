"""SARIF: valid against OASIS 2.1.0, one rule per kind, stable fingerprints, never a secret."""

from __future__ import annotations

import json
import re
from typing import Any, Dict
from urllib.parse import unquote

import pytest

from copera_secretscan.report import ReportOptions, writer
from copera_secretscan.report.sarif import artifact_uri, render_with
from tests.report_samples import (
    check_golden,
    empty_result,
    full_result,
    secrets,
    validate_sarif,
)

GITHUB_ENV = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/app",
    "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    "GITHUB_REF_NAME": "main",
}


def sarif(result: Any, show: bool = False, env: Any = None) -> Dict[str, Any]:
    text = render_with(result, ReportOptions(show_secrets=show), env or {})
    document = json.loads(text)
    validate_sarif(document)
    for run in document["runs"]:
        for entry in run["results"]:
            uri = entry["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            assert_uri_reference(uri)
    return document


def assert_uri_reference(uri: str) -> None:
    """RFC 3986: only URI characters, well-formed escapes, no scheme unless we meant one."""
    assert re.fullmatch(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*", uri), uri
    assert not re.search(r"%(?![0-9A-F]{2})", uri), uri
    first = uri.split("/", 1)[0]
    assert ":" not in first or uri.startswith("file:///"), uri


def test_full_report_validates_and_lists_every_finding() -> None:
    result = full_result()
    run = sarif(result, env=GITHUB_ENV)["runs"][0]
    assert len(run["results"]) == len(result.findings) == 10
    assert {r["level"] for r in run["results"]} == {"error"}
    assert run["versionControlProvenance"] == [
        {
            "repositoryUri": "https://github.com/acme/app",
            "revisionId": GITHUB_ENV["GITHUB_SHA"],
            "branch": "main",
        }
    ]


def test_empty_report_validates_and_is_a_successful_run() -> None:
    run = sarif(empty_result())["runs"][0]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        "copera-pat",
        "copera-key",
        "copera-oat",
    ]


def test_one_rule_per_kind_with_remediation_and_severity() -> None:
    run = sarif(full_result())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [
        "copera-pat",
        "copera-key",
        "copera-oat",
        "acme-internal",
    ]
    severity = {rule["id"]: rule["properties"]["security-severity"] for rule in rules}
    assert severity == {
        "copera-pat": "9.0",
        "copera-key": "8.5",
        "copera-oat": "7.5",
        "acme-internal": "8.0",
    }
    for rule in rules:
        for text in (rule["help"]["text"], rule["help"]["markdown"]):
            assert "Revoke" in text and "history" in text and "Rotate" in text
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
    assert "Workspace Settings → Integrations" in rules[0]["help"]["text"]
    for entry in run["results"]:
        assert rules[entry["ruleIndex"]]["id"] == entry["ruleId"]


def test_regions_fingerprints_and_history_commit() -> None:
    result = full_result()
    run = sarif(result)["runs"][0]
    for finding, entry in zip(result.findings, run["results"]):
        region = entry["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (finding.line, finding.column)
        assert (region["endLine"], region["endColumn"]) == (finding.end_line, finding.end_column)
        assert entry["partialFingerprints"] == {"coperaSecretscan/v1": finding.fingerprint}
        assert entry["properties"].get("commit") == finding.commit
    history = next(e for f, e in zip(result.findings, run["results"]) if f.path == "old/creds.py")
    assert history["properties"]["author"].startswith("Test Author")
    assert "introduced in commit 3f2a9c81" in history["message"]["text"]


def test_a_moved_line_keeps_its_fingerprint_so_code_scanning_keeps_the_alert() -> None:
    result = full_result()
    moved = result.findings[0]._replace(line=99, end_line=99)
    before = sarif(result._replace(findings=result.findings[:1]))["runs"][0]["results"][0]
    after = sarif(result._replace(findings=(moved,)))["runs"][0]["results"][0]
    assert before["partialFingerprints"] == after["partialFingerprints"]


def test_commit_message_finding_points_at_its_commit() -> None:
    result = full_result()
    run = sarif(result)["runs"][0]
    entry = next(e for f, e in zip(result.findings, run["results"]) if f.path is None)
    location = entry["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == (
        "commit-message/a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    )
    assert location["logicalLocations"][0]["fullyQualifiedName"].endswith("/message")
    assert "in a commit message" in entry["message"]["text"]


@pytest.mark.parametrize(
    ("path", "uri"),
    [
        ("src/app/settings.py", "src/app/settings.py"),
        ("deploy/k8s secret.yaml", "deploy/k8s%20secret.yaml"),
        ("docs/100% ready, really: yes.md", "docs/100%25%20ready%2C%20really%3A%20yes.md"),
        ("a:b.txt", "a%3Ab.txt"),  # not a URI with scheme "a"
        ("weird\nname\r.txt", "weird%0Aname%0D.txt"),
        ("données/ключ 🔑.txt", "donn%C3%A9es/%D0%BA%D0%BB%D1%8E%D1%87%20%F0%9F%94%91.txt"),
        ("/etc/app/token.env", "file:///etc/app/token.env"),
        ("C:/work/token.env", "file:///C:/work/token.env"),
    ],
)
def test_artifact_uris_are_percent_encoded_uri_references(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri
    if not uri.startswith("file:"):
        assert unquote(uri) == path


def test_problems_make_an_unsuccessful_run_with_notifications() -> None:
    invocation = sarif(full_result())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    texts = [note["message"]["text"] for note in invocation["toolExecutionNotifications"]]
    assert "secrets/locked.bin: permission denied" in texts


def test_no_raw_token_unless_show_secrets() -> None:
    result = full_result()
    hidden = render_with(result, ReportOptions(), GITHUB_ENV)
    shown = render_with(result, ReportOptions(show_secrets=True), GITHUB_ENV)
    for secret in secrets(result):
        assert secret not in hidden and secret[8:] not in hidden
        assert secret in shown
    assert '"snippet"' not in shown  # a snippet could carry another token from the same line


def test_registered_as_a_format() -> None:
    assert json.loads(writer("sarif")(empty_result(), ReportOptions()))["version"] == "2.1.0"


def test_golden() -> None:
    check_golden("report.sarif", render_with(full_result(), ReportOptions(), GITHUB_ENV))
