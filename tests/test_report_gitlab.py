"""GitLab secret-detection report: valid against GitLab's schema, stable ids, commits, no secret."""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional

from copera_secretscan.report import ReportOptions, writer
from copera_secretscan.report.gitlab import SCHEMA_VERSION, render_with
from tests.report_samples import (
    COMMIT,
    DATA,
    NOW,
    check_golden,
    empty_result,
    full_result,
    secrets,
    validate_gitlab,
)

SCHEMA = json.loads((DATA / "secret-detection-report-format.json").read_text(encoding="utf-8"))
PIPELINE = {"CI_COMMIT_SHA": "feedface" * 5}


def gitlab(
    result: Any, show: bool = False, env: Optional[Mapping[str, str]] = None
) -> Dict[str, Any]:
    text = render_with(result, ReportOptions(show_secrets=show), NOW, env or {})
    report = json.loads(text)
    validate_gitlab(report)
    return report


def test_schema_is_the_version_we_claim() -> None:
    assert SCHEMA["self"]["version"] == SCHEMA_VERSION


def test_full_report_validates() -> None:
    report = gitlab(full_result(), env=PIPELINE)
    assert report["version"] == SCHEMA_VERSION
    assert len(report["vulnerabilities"]) == 10
    scan = report["scan"]
    assert (scan["type"], scan["status"]) == ("secret_detection", "failure")  # a problem
    assert (scan["start_time"], scan["end_time"]) == ("2026-01-02T03:04:03", "2026-01-02T03:04:05")
    assert scan["messages"][0] == {
        "level": "warn",
        "value": "secrets/locked.bin: permission denied",
    }
    assert [i["value"] for i in scan["primary_identifiers"]] == [
        "copera-pat",
        "copera-key",
        "copera-oat",
        "acme-internal",
    ]


def test_empty_report_validates_as_a_successful_scan() -> None:
    report = gitlab(empty_result())
    assert report["vulnerabilities"] == []
    assert report["scan"]["status"] == "success"


def test_vulnerabilities_carry_kind_severity_location_and_remediation() -> None:
    result = full_result()
    report = gitlab(result, env=PIPELINE)
    for found, vuln in zip(result.findings, report["vulnerabilities"]):
        assert vuln["category"] == "secret_detection"
        assert vuln["identifiers"][0]["value"] == found.rule_id
        assert vuln["location"]["start_line"] == found.line
        assert vuln["location"].get("file") == found.path
        assert "Revoke" in vuln["solution"] and "history" in vuln["solution"]
        assert "raw_source_code_extract" not in vuln  # it would hold the token
        expected = {"copera-pat": "Critical"}.get(found.rule_id, "High")
        assert vuln["severity"] == expected


def test_commit_is_the_history_commit_else_the_pipelines() -> None:
    result = full_result()
    by_path = {
        f.path: v for f, v in zip(result.findings, gitlab(result, env=PIPELINE)["vulnerabilities"])
    }
    history = by_path["old/creds.py"]["location"]["commit"]
    assert history["sha"] == COMMIT and history["author"].startswith("Test Author")
    assert by_path["src/app/settings.py"]["location"]["commit"] == {
        "sha": PIPELINE["CI_COMMIT_SHA"]
    }
    outside = {f.path: v for f, v in zip(result.findings, gitlab(result)["vulnerabilities"])}
    assert outside["src/app/settings.py"]["location"]["commit"] == {"sha": "0000000"}
    assert "file" not in by_path[None]["location"]  # a commit message has no file


def test_ids_are_unique_and_stable_across_runs() -> None:
    result = full_result()
    first = [v["id"] for v in gitlab(result)["vulnerabilities"]]
    again = [v["id"] for v in gitlab(result._replace(seconds=9.0))["vulnerabilities"]]
    assert first == again and len(set(first)) == len(first)


def test_no_raw_token_unless_show_secrets() -> None:
    result = full_result()
    hidden = render_with(result, ReportOptions(), NOW, PIPELINE)
    for secret in secrets(result):
        assert secret not in hidden and secret[8:] not in hidden
    shown = gitlab(result, show=True)
    tokens = [v["details"]["token"]["value"] for v in shown["vulnerabilities"]]
    assert sorted(tokens) == sorted(secrets(result))


def test_registered_as_a_format() -> None:
    assert json.loads(writer("gitlab")(empty_result(), ReportOptions()))["vulnerabilities"] == []


def test_golden() -> None:
    check_golden(
        "gl-secret-detection-report.json",
        render_with(full_result(), ReportOptions(), NOW, {}),
    )
