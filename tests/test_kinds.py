"""The kinds table is the one place a token kind is described; everything else derives from it.

The flow test adds a kind at run time and follows it through the engine to every report
format, so a new row is proven to reach users without editing any other module.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Iterator, Set

import pytest
from click.testing import CliRunner

from copera_secretscan import kinds, quick
from copera_secretscan.cli.main import cli
from copera_secretscan.config.settings import Settings, describe
from copera_secretscan.engine.rules import BUILTIN_RULES, Rule, Ruleset, builtin_rules
from copera_secretscan.engine.scan import scan_bytes
from copera_secretscan.models import BUILTIN_PREFIXES, Origin, ScanResult
from copera_secretscan.report import FORMATS, ReportOptions, writer
from copera_secretscan.report.gitlab import severity
from copera_secretscan.report.sarif import CUSTOM_SEVERITY, security_severity
from tests.tokens import make_token

PACKAGE = Path(__file__).resolve().parents[1] / "copera_secretscan"
NEW_KIND = kinds.Kind(
    kinds.anchor() + "tst_",
    "copera-test",
    "Copera Test Token",
    "a test harness",
    "Revoke it in the Copera test console under Harness Keys.",
    5.5,
)


def _docstrings(tree: ast.AST) -> Set[int]:
    """The ids of docstring nodes: prose, not the literal a program matches on."""
    found: Set[int] = set()
    for node in ast.walk(tree):
        holders = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        if isinstance(node, holders) and node.body and isinstance(node.body[0], ast.Expr):
            found.add(id(node.body[0].value))
    return found


def _literals(path: Path) -> Iterator[str]:
    """Every str and bytes constant of a module (f-string parts too), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in skip:
            if isinstance(node.value, bytes):
                yield node.value.decode("latin-1")
            elif isinstance(node.value, str):
                yield node.value


def test_the_prefix_literal_lives_in_the_kinds_module_only() -> None:
    anchor = "cp" + "_"  # spelled in two pieces so this test is not a holder itself
    holders = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if any(anchor in text for text in _literals(path))
    }
    assert holders == {"kinds.py"}


def test_rows_are_complete_and_distinct() -> None:
    assert len({kind.rule_id for kind in kinds.KINDS}) == len(kinds.KINDS)
    assert len({kind.prefix for kind in kinds.KINDS}) == len(kinds.KINDS)
    for kind in kinds.KINDS:
        assert kind.prefix.startswith(kinds.anchor()) and kind.prefix.endswith("_")
        assert kind.name and kind.acts_as and kind.revoke.endswith(".")
        assert 0.0 < kind.severity <= 10.0


def test_the_table_is_a_cheap_leaf() -> None:
    """The lean hook imports it: at run time nothing at all (not even ``collections``)."""
    tree = ast.parse((PACKAGE / "kinds.py").read_text(encoding="utf-8"))
    imported = {
        alias.name if isinstance(node, ast.Import) else f"{node.module}"
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert imported == {"__future__"}


@pytest.mark.parametrize(
    ("words", "expected"),
    [((), ""), (("abc",), "abc"), (("ab_x", "ab_y", "ab_zz"), "ab_"), (("a", "b"), "")],
)
def test_common_prefix(words: tuple[str, ...], expected: str) -> None:
    assert kinds.common_prefix(words) == expected


def test_rules_anchor_and_redaction_derive_from_the_table() -> None:
    assert [(r.rule_id, r.prefix, r.name, r.acts_as, r.revoke) for r in BUILTIN_RULES] == [
        (k.rule_id, k.prefix, k.name, k.acts_as, k.revoke) for k in kinds.KINDS
    ]
    assert kinds.anchor().encode("ascii") == quick.ANCHOR
    assert set(Ruleset().anchors()) == {quick.ANCHOR}
    assert kinds.prefixes() == BUILTIN_PREFIXES


def test_severities_derive_from_the_table() -> None:
    for kind in kinds.KINDS:
        assert security_severity(kind.rule_id) == kind.severity
    assert [severity(kind.rule_id) for kind in kinds.KINDS] == ["Critical", "High", "High"]
    assert security_severity("acme-live") == CUSTOM_SEVERITY  # a custom rule's default
    assert severity("acme-live") == "High"


def test_a_builtin_rule_without_a_row_gets_no_default_severity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kinds, "KINDS", kinds.KINDS[1:])
    with pytest.raises(LookupError, match=BUILTIN_RULES[0].rule_id):
        security_severity(BUILTIN_RULES[0].rule_id)


@pytest.mark.parametrize(
    ("score", "word"),
    [
        (10.0, "Critical"),
        (9.0, "Critical"),
        (7.0, "High"),
        (4.0, "Medium"),
        (3.9, "Low"),
        (0.0, "Info"),
    ],
)
def test_gitlab_words_follow_code_scannings_bands(
    score: float, word: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kinds, "KINDS", (NEW_KIND._replace(severity=score),))
    assert severity(NEW_KIND.rule_id) == word


def test_help_and_describe_list_every_kind() -> None:
    help_text = CliRunner().invoke(cli, ["--help"]).output
    assert kinds.listed() in help_text
    described = describe(Settings())
    for kind in kinds.KINDS:
        assert f"#   {kind.rule_id}: {kind.prefix}" in described


def _flowed(monkeypatch: pytest.MonkeyPatch) -> tuple[ScanResult, str]:
    """A scan with one more kind in the table, finding one token of that kind."""
    monkeypatch.setattr(kinds, "KINDS", (*kinds.KINDS, NEW_KIND))
    ruleset = Ruleset(rules=builtin_rules())
    token = make_token(NEW_KIND.prefix, 32, seed=10)
    found = scan_bytes(f"TOKEN={token}\n".encode(), Origin("app.env"), ruleset)
    assert [f.rule_id for f in found] == [NEW_KIND.rule_id]
    return ScanResult(findings=tuple(found), files=1, rules=ruleset.rules), token


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_new_kind_reaches_every_format_redacted(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, token = _flowed(monkeypatch)
    out = writer(fmt)(result, ReportOptions())
    assert NEW_KIND.rule_id in out or NEW_KIND.name in out
    assert token not in out


def test_a_new_kind_carries_its_severity_and_remediation(monkeypatch: pytest.MonkeyPatch) -> None:
    result, _ = _flowed(monkeypatch)
    text = writer("text")(result, ReportOptions())
    assert f"{NEW_KIND.name} ({NEW_KIND.rule_id})" in text and NEW_KIND.revoke in text
    sarif = json.loads(writer("sarif")(result, ReportOptions()))["runs"][0]
    [rule] = [r for r in sarif["tool"]["driver"]["rules"] if r["id"] == NEW_KIND.rule_id]
    assert rule["properties"]["security-severity"] == "5.5"
    assert NEW_KIND.revoke in rule["help"]["text"]
    assert NEW_KIND.acts_as in rule["fullDescription"]["text"]
    assert sarif["results"][0]["message"]["text"].startswith(NEW_KIND.name)
    [vuln] = json.loads(writer("gitlab")(result, ReportOptions()))["vulnerabilities"]
    assert (vuln["name"], vuln["severity"]) == (NEW_KIND.name, "Medium")
    assert NEW_KIND.revoke in vuln["solution"] and NEW_KIND.acts_as in vuln["description"]


def test_a_custom_rule_keeps_its_own_words_in_gitlab() -> None:
    custom = Rule("acme-live", "acme_live_", "ACME live API key", "whoever", "Revoke it at ACME.")
    ruleset = Ruleset(rules=(*BUILTIN_RULES, custom))
    token = make_token(custom.prefix, 32, seed=11)
    found = scan_bytes(f"K={token}\n".encode(), Origin("a.env"), ruleset)
    result = ScanResult(findings=tuple(found), files=1, rules=ruleset.rules)
    [vuln] = json.loads(writer("gitlab")(result, ReportOptions()))["vulnerabilities"]
    assert (vuln["name"], vuln["severity"]) == ("ACME live API key", "High")
    assert vuln["solution"].startswith("Revoke it at ACME.")
