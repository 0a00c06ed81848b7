"""JUnit XML: valid against the Ant junit XSD, one case per place, errors, clean runs, odd names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, List

import pytest
import xmlschema

from copera_secretscan.models import Problem
from copera_secretscan.report import ReportOptions, writer
from copera_secretscan.report.junit import render_at, xml_text
from tests.report_samples import (
    DATA,
    NOW,
    check_golden,
    empty_result,
    finding,
    full_result,
    secrets,
)

SCHEMA = xmlschema.XMLSchema(str(DATA / "junit-ant.xsd"))


def junit(result: Any, show: bool = False) -> ET.Element:
    text = render_at(result, ReportOptions(show_secrets=show), NOW)
    SCHEMA.validate(text)
    return ET.fromstring(text.encode("utf-8"))


def cases(root: ET.Element) -> List[ET.Element]:
    return root.findall("./testsuite/testcase")


def test_full_report_validates_with_one_case_per_place() -> None:
    result = full_result()
    suite = junit(result).find("testsuite")
    assert suite is not None
    failing = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    erroring = [c for c in suite.findall("testcase") if c.find("error") is not None]
    assert len(failing) == 10  # nine files and one commit message
    assert [c.get("name") for c in erroring] == ["secrets/locked.bin"]
    assert suite.get("tests") == str(len(suite.findall("testcase"))) == "12"
    assert (suite.get("failures"), suite.get("errors")) == ("10", "1")
    assert suite.get("timestamp") == "2026-01-02T03:04:05"


def test_several_tokens_in_one_file_are_one_failure() -> None:
    result = full_result()
    first = next(f for f in result.findings if f.path == ".cursor/mcp.json")
    other = first.secret[:-4] + "Zz9Q"  # a second token of the same kind in the same file
    twice = first._replace(line=40, end_line=40, secret=other)
    root = junit(result._replace(findings=(first, twice), problems=()))
    (failure,) = [c.find("failure") for c in cases(root) if c.find("failure") is not None]
    assert failure is not None and failure.get("message", "").startswith("2 Copera tokens")
    assert failure.text is not None and failure.text.count(".cursor/mcp.json:") == 2


def test_empty_report_is_one_passing_case() -> None:
    root = junit(empty_result())
    (case,) = cases(root)
    assert list(case) == []  # no failure, no error: a pass
    assert case.get("name") == "other files without Copera tokens"  # stable: no count in it
    suite = root.find("testsuite")
    assert suite is not None and (suite.get("failures"), suite.get("errors")) == ("0", "0")


def test_unicode_newlines_and_markup_in_names() -> None:
    result = full_result()
    names = {c.get("name") for c in cases(junit(result))}
    assert "weird\\nname\\r.txt" in names
    assert "données/ключ 🔑.txt" in names
    assert "docs/100% ready, really: yes.md" in names
    assert "commit message a1b2c3d4e5f60718293a4b5c6d7e8f9012345678" in names
    odd = finding("copera-pat", "a<b>&\"c'.txt", 1, 1, None, seed=77)
    assert {c.get("name") for c in cases(junit(result._replace(findings=(odd,))))} >= {
        "a<b>&\"c'.txt"
    }


@pytest.mark.parametrize(
    "bad", ["nul\x00", "bell\x07", "lone\udcff", "nonchar\ufffe", "esc\x1b[31m"]
)
def test_characters_xml_cannot_carry_are_replaced(bad: str) -> None:
    odd = finding("copera-key", f"dir/{bad}.txt", 2, 3, None, seed=5)
    result = full_result()._replace(findings=(odd,), problems=(Problem(f"{bad}.bin", bad),))
    root = junit(result)  # parses and validates
    assert any("\ufffd" in (c.get("name") or "") for c in cases(root))
    assert xml_text(bad) != bad and "\ufffd" in xml_text(bad)


def test_no_raw_token_unless_show_secrets() -> None:
    result = full_result()
    hidden = render_at(result, ReportOptions(), NOW)
    shown = render_at(result, ReportOptions(show_secrets=True), NOW)
    for secret in secrets(result):
        assert secret not in hidden and secret[8:] not in hidden
        assert secret in shown


def test_registered_as_a_format() -> None:
    SCHEMA.validate(writer("junit")(empty_result(), ReportOptions()))


def test_golden() -> None:
    check_golden("report.junit.xml", render_at(full_result(), ReportOptions(), NOW))


def props(root: ET.Element) -> dict:
    return {p.get("name"): p.get("value") for p in root.iter("property")}


def test_case_names_stay_the_same_when_counts_and_lines_move() -> None:
    """Jenkins and GitLab key a test's history on its name: no count, no line number in it."""
    result = full_result()
    moved = tuple(f._replace(line=f.line + 7, end_line=f.end_line + 7) for f in result.findings)
    later = result._replace(findings=moved, files=result.files + 5000)

    before, after = junit(result), junit(later)

    assert [c.get("name") for c in cases(before)] == [c.get("name") for c in cases(after)]
    assert not any(str(result.files) in (c.get("name") or "") for c in cases(before))
    assert props(after)["files"] == str(result.files + 5000)


def test_counts_are_properties_in_the_vocabulary_of_every_format() -> None:
    result = full_result()
    root = junit(result)
    tokens = len({(f.rule_id, f.secret) for f in result.findings})
    places = len({f.root_path or f.commit for f in result.findings})

    values = props(root)

    assert (values["tokens"], values["places"]) == (str(tokens), str(places))
    assert values["clean_files"] == str(result.files - places)
    out = root.find("testsuite/system-out")
    assert out is not None and out.text is not None
    assert out.text.startswith(f"Found {tokens} Copera tokens in {places} places")
