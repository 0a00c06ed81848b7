"""GitHub workflow commands: GitHub's escaping, one annotation per finding, no injection."""

from __future__ import annotations

import re
from typing import Dict, List, Tuple

import pytest

from copera_secretscan.models import Problem
from copera_secretscan.report import ReportOptions, writer
from copera_secretscan.report.github import escape_data, escape_property, render
from tests.report_samples import check_golden, empty_result, finding, full_result, secrets

COMMAND = re.compile(r"::(error|warning|notice)(?: ([^:]*))?::(.*)")


def unescape(text: str) -> str:
    for raw, encoded in ((",", "%2C"), (":", "%3A"), ("\n", "%0A"), ("\r", "%0D"), ("%", "%25")):
        text = text.replace(encoded, raw)
    return text


def parse(line: str) -> Tuple[str, Dict[str, str], str]:
    """A workflow command read back the way the runner reads it."""
    match = COMMAND.fullmatch(line)
    assert match, line
    props: Dict[str, str] = {}
    for pair in filter(None, (match.group(2) or "").split(",")):
        key, _, value = pair.partition("=")
        props[key] = unescape(value)
    return match.group(1), props, unescape(match.group(3))


def commands(text: str) -> List[str]:
    return [line for line in text.splitlines() if line.startswith("::")]


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("100%", "100%25", "100%25"),
        ("a\rb", "a%0Db", "a%0Db"),
        ("a\nb", "a%0Ab", "a%0Ab"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("k: v", "k: v", "k%3A v"),
        ("a,b", "a,b", "a%2Cb"),
        ("%0A", "%250A", "%250A"),  # an escape in the input is not taken for one
        ("plain ünïcode", "plain ünïcode", "plain ünïcode"),
    ],
)
def test_githubs_escaping(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data
    assert escape_property(raw) == prop
    assert unescape(prop) == raw


def test_one_error_annotation_per_finding_with_its_position() -> None:
    result = full_result()
    lines = commands(render(result, ReportOptions()))
    assert len(lines) == len(result.findings) + len(result.problems) + len(result.warnings)
    for found, line in zip(result.findings, lines):
        kind, props, message = parse(line)
        assert kind == "error"
        assert found.redacted in message
        if found.path is None:
            assert "file" not in props and "in this commit message" in message
            continue
        assert props["file"] == found.path  # odd names survive the round trip
        assert (props["line"], props["col"]) == (str(found.line), str(found.column))
        assert (props["endLine"], props["endColumn"]) == (
            str(found.end_line),
            str(found.end_column),
        )
        assert props["title"].startswith("Copera token leaked: ")


def test_problems_and_warnings_are_annotations_too() -> None:
    lines = commands(render(full_result(), ReportOptions()))
    kind, props, message = parse(lines[-2])
    assert (kind, props["file"]) == ("error", "secrets/locked.bin")
    assert message == "secrets/locked.bin: permission denied"
    assert parse(lines[-1])[0] == "warning"


def test_a_file_name_cannot_inject_a_workflow_command() -> None:
    sneaky = "x\n::stop-commands::pwned\r\n::add-mask::y,z:w.txt"
    result = full_result()._replace(
        findings=(finding("copera-pat", sneaky, 1, 1, None, seed=3),),
        problems=(Problem(sneaky, "bad\n::error::fake"),),
        warnings=(),
    )
    text = render(result, ReportOptions())
    lines = text.splitlines()
    assert len(lines) == 3  # two annotations and the summary, nothing else
    assert not any(
        line.startswith(("::stop-commands", "::add-mask", "::error::fake")) for line in lines
    )
    assert parse(lines[0])[1]["file"] == sneaky


def test_empty_report_is_just_the_summary_and_quiet_prints_nothing() -> None:
    assert render(empty_result(), ReportOptions()) == "No Copera tokens found (7 files scanned).\n"
    assert render(empty_result(), ReportOptions(quiet=True)) == ""


def test_no_raw_token_unless_show_secrets() -> None:
    result = full_result()
    hidden = render(result, ReportOptions())
    shown = render(result, ReportOptions(show_secrets=True))
    for secret in secrets(result):
        assert secret not in hidden and secret[8:] not in hidden
        assert secret in shown


def test_registered_as_a_format() -> None:
    assert writer("github")(full_result(), ReportOptions()).startswith("::error ")


def test_golden() -> None:
    check_golden("report.github.txt", render(full_result(), ReportOptions()))
