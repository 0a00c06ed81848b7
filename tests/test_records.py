"""The records' identity and repr, as ``compare=False`` and ``repr=False`` said of the
dataclasses they were before issue 14."""

from __future__ import annotations

from copera_secretscan.models import Finding, History, Origin, ScanResult

TOKEN = "cp_pat_" + "Ab3dE6gH9jK2mN5pQ8sT1vW4"


def finding(**extra: object) -> Finding:
    return Finding("copera-pat", Origin("a.env"), 1, 3, 1, 34, TOKEN, "cp_pat_")._replace(**extra)


def test_a_finding_is_the_same_token_at_the_same_place_whatever_a_report_says_of_it() -> None:
    plain = finding()
    said = finding(
        line_text=f"T={TOKEN}",
        history=History("a", "2026-01-01", 1, True),
        encoding=("base64",),
        verification="live",
    )
    assert plain == said and hash(plain) == hash(said)
    assert (plain != said) is False  # __ne__ agrees with __eq__
    assert plain != finding(line=2) and plain != finding(origin=Origin("b.env"))


def test_a_findings_repr_leaves_out_its_lines_and_history() -> None:
    shown = repr(finding(line_text=f"T={TOKEN}", prev_line_text="# k", encoding=("base64",)))
    assert shown.startswith("Finding(rule_id='copera-pat', origin=Origin(path='a.env'")
    assert "encoding=('base64',)" in shown and "verification=None" in shown
    assert "line_text" not in shown and "history" not in shown and "# k" not in shown


def test_two_results_are_equal_whatever_rules_each_names() -> None:
    assert ScanResult(files=1, rules=("x",)) == ScanResult(files=1)
    assert ScanResult(files=1) != ScanResult(files=2)
