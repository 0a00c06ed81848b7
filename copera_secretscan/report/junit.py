"""JUnit XML for the test tabs of GitLab, Jenkins and Azure DevOps (the Apache Ant junit schema).

A ``ScanResult`` counts the files it scanned but does not list the clean ones, so the report
has one failing test case per file (or commit message) that holds tokens, one erroring test case
per input that could not be read, and one passing test case that stands for every other file
scanned. A clean scan is therefore a single passing test case, which is what those dashboards
expect; a scan that could not read everything shows errors, never a clean green run.

Case names never hold a count or a line number: Jenkins and GitLab track a test's history by
its name, so a name must stay the same from run to run. Counts go to the suite's properties
and its system-out.

XML 1.0 cannot carry NUL, most C0 controls or lone surrogates at all, even escaped, and a file
name may contain any of them: such characters become U+FFFD, and line breaks and tabs in names
are shown as ``\\n``, ``\\r``, ``\\t`` so one test case name stays on one line.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Dict, List, Optional, Tuple

from .. import __version__
from ..console import plural
from ..engine.rules import BUILTIN_RULES, rule_by_id
from ..models import WORKTREE, Finding, Problem, ScanResult
from . import (
    ReportOptions,
    disguise,
    kind_name,
    message_kind,
    place_count,
    shown_secret,
    token_count,
    verdict,
)
from .human import advice
from .text import summary

SUITE = "copera-secretscan"
CLEAN_CASE = "other files without Copera tokens"  # stable: how many goes to the properties
_ILLEGAL_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_VISIBLE = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids replaced by U+FFFD."""
    return _ILLEGAL_XML.sub("\ufffd", text)


def one_line(text: str) -> str:
    """A name for one line of a test tab: line breaks and tabs shown as escapes."""
    return xml_text("".join(_VISIBLE.get(char, char) for char in text))


def case_name(finding: Finding) -> str:
    if finding.root_path is None:
        return f"{message_kind(finding)} {finding.commit or ''}".strip()
    return one_line(finding.root_path)  # CI shows it beside the repository: from the root


def group_by_place(findings: Tuple[Finding, ...]) -> Dict[str, List[Finding]]:
    """Findings per file (or commit message), in report order: one test case each."""
    groups: Dict[str, List[Finding]] = {}
    for finding in findings:
        groups.setdefault(case_name(finding), []).append(finding)
    return groups


def finding_lines(finding: Finding, options: ReportOptions, context: str = WORKTREE) -> List[str]:
    rule = rule_by_id(BUILTIN_RULES, finding.rule_id)
    where = f"{case_name(finding)}:{finding.line}:{finding.column}"
    if finding.in_name:
        where = f"{case_name(finding)} (in the name)"
    kind = f"{kind_name(finding.rule_id)}{disguise(finding)} ({finding.rule_id})"
    head = f"{where}: {kind} {shown_secret(finding, options)}"
    lines = [head + (f" in commit {finding.commit}" if finding.commit else "")]
    if finding.verification:
        lines.append(f"  copera: {verdict(finding)}")
    return lines + advice(rule, context)


def failure_case(
    name: str, findings: List[Finding], options: ReportOptions, context: str = WORKTREE
) -> ET.Element:
    case = ET.Element("testcase", name=name, classname=SUITE, time="0")
    kinds = sorted({kind_name(f.rule_id) for f in findings})
    failure = ET.SubElement(
        case,
        "failure",
        message=f"{plural(token_count(tuple(findings)), 'Copera token')}: {', '.join(kinds)}",
        type="leaked-token",
    )
    body = [line for finding in findings for line in finding_lines(finding, options, context)]
    failure.text = xml_text("\n".join(body))
    return case


def error_case(problem: Problem) -> ET.Element:
    name = one_line(problem.root_path) if problem.root_path else "scan"
    case = ET.Element("testcase", name=name, classname=SUITE, time="0")
    error = ET.SubElement(case, "error", message=xml_text(problem.message), type="scan-error")
    error.text = xml_text(f"{problem} (the scan is incomplete)")
    return case


def clean_case(result: ScanResult) -> ET.Element:
    """Stands for every scanned file that had no token (the result lists none of them)."""
    return ET.Element("testcase", name=CLEAN_CASE, classname=SUITE, time=f"{result.seconds:.3f}")


def properties(result: ScanResult) -> ET.Element:
    """The counts, in the words of every other format: tokens, places, files scanned."""
    props = ET.Element("properties")
    places = place_count(result.findings)
    values = (
        ("tool", f"{SUITE} {__version__}"),
        ("tokens", token_count(result.findings)),
        ("places", places),
        ("files", result.files),
        ("clean_files", max(result.files - places, 0)),
        ("bytes", result.bytes),
        ("suppressed", result.suppressed),
    )
    for name, value in values:
        ET.SubElement(props, "property", name=name, value=str(value))
    return props


def suite(result: ScanResult, options: ReportOptions, now: datetime) -> ET.Element:
    groups = group_by_place(result.findings)
    cases = [failure_case(name, found, options, result.context) for name, found in groups.items()]
    cases += [error_case(problem) for problem in result.problems]
    cases.append(clean_case(result))
    element = ET.Element(
        "testsuite",
        name=SUITE,
        timestamp=now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        hostname="localhost",  # the schema requires one; the real name would only leak
        tests=str(len(cases)),
        failures=str(len(groups)),
        errors=str(len(result.problems)),
        skipped="0",
        time=f"{result.seconds:.3f}",
        package=SUITE,
        id="0",
    )
    element.append(properties(result))
    element.extend(cases)
    out = ET.SubElement(element, "system-out")
    out.text = xml_text(summary(result, ReportOptions(show_secrets=options.show_secrets)))
    err = ET.SubElement(element, "system-err")
    err.text = xml_text("".join(f"{p}\n" for p in result.problems))
    return element


def render_at(result: ScanResult, options: ReportOptions, now: Optional[datetime] = None) -> str:
    root = ET.Element("testsuites")
    root.append(suite(result, options, now or datetime.now(timezone.utc)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def render(result: ScanResult, options: ReportOptions) -> str:
    return render_at(result, options)
