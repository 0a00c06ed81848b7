"""``--report FORMAT:PATH`` and ``--exit-zero`` through the real entry point, in a real repo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import pytest

from copera_secretscan.cli.main import main
from tests.conftest import commit_all, git
from tests.report_samples import validate_gitlab, validate_junit, validate_sarif
from tests.tokens import make_token

REPORTS = {
    "sarif": "reports/copera.sarif",
    "junit": "reports/junit/copera.xml",  # a directory that does not exist yet
    "gitlab": "gl-secret-detection-report.json",
    "github": "annotations.txt",
    "json": "copera.json",
    "text": "copera.txt",
}


def plant(repo: Path) -> List[str]:
    """One token of each kind, in files with awkward names; returns the raw tokens."""
    tokens = [
        make_token(p, 32, seed=40 + n) for n, p in enumerate(("cp_pat_", "cp_key_", "cp_oat_"))
    ]
    files = {
        "src/settings.py": f'TOKEN = "{tokens[0]}"\n',
        "deploy/k8s secret, v2: prod.yaml": f"key: {tokens[1]}\n",
        "données/ключ 100%.json": f'{{"token": "{tokens[2]}"}}\n',
    }
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    return tokens


def report_args(reports: Dict[str, str]) -> List[str]:
    return [arg for fmt, path in reports.items() for arg in ("--report", f"{fmt}:{path}")]


def read(repo: Path, fmt: str) -> str:
    return (repo / REPORTS[fmt]).read_text(encoding="utf-8")


def test_one_run_writes_every_report_and_the_terminal_keeps_text(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(repo)
    code = main(["scan", *report_args(REPORTS)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Found 3 Copera tokens" in out and "fix now:" in out  # the human report
    assert "::error" not in out and '"runs"' not in out
    assert err == ""
    validate_sarif(json.loads(read(repo, "sarif")))
    validate_gitlab(json.loads(read(repo, "gitlab")))
    validate_junit(read(repo, "junit"))
    assert len(json.loads(read(repo, "json"))["findings"]) == 3
    assert read(repo, "github").count("::error file=") == 3
    assert "Found 3 Copera tokens" in read(repo, "text")
    assert "\033[" not in read(repo, "text")  # no colour codes in a file


def test_no_byte_of_any_report_holds_a_token_unless_show_secrets(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = plant(repo)
    assert main(["scan", *report_args(REPORTS)]) == 1
    out, err = capsys.readouterr()
    for fmt in REPORTS:
        data = (repo / REPORTS[fmt]).read_bytes()
        for token in tokens:
            for needle in (token, token[11:]):  # the token, and its body past the redaction
                assert needle.encode() not in data, (fmt, needle)
                assert needle not in out + err
    assert main(["scan", "--show-secrets", *report_args(REPORTS)]) == 1
    for fmt in REPORTS:
        data = (repo / REPORTS[fmt]).read_bytes()
        assert all(token.encode() in data for token in tokens), fmt


def test_format_on_stdout_and_text_in_a_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(repo)
    assert main(["scan", "--format", "sarif", "--report", "text:human.txt"]) == 1
    validate_sarif(json.loads(capsys.readouterr().out))
    assert "Copera Personal Access Token" in (repo / "human.txt").read_text(encoding="utf-8")


def test_github_format_on_stdout_makes_annotations(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(repo)
    assert main(["scan", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("::error file=") for line in lines) == 3
    assert "file=deploy/k8s secret%2C v2%3A prod.yaml" in "\n".join(lines)


def test_exit_zero_reports_but_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant(repo)
    assert main(["scan", "--exit-zero", "--report", "sarif:out.sarif"]) == 0
    assert "Found 3 Copera tokens" in capsys.readouterr().out
    assert len(json.loads((repo / "out.sarif").read_text())["runs"][0]["results"]) == 3


@pytest.mark.parametrize("with_tokens", [True, False])
def test_exit_zero_never_hides_an_incomplete_scan(
    repo: Path, capsys: pytest.CaptureFixture[str], with_tokens: bool
) -> None:
    if with_tokens:
        plant(repo)
    assert main(["scan", "--exit-zero", ".", "missing.txt", "--report", "gitlab:gl.json"]) == 2
    assert "missing.txt" in capsys.readouterr().err
    report = json.loads((repo / "gl.json").read_text())
    assert report["scan"]["status"] == "failure"


@pytest.mark.parametrize("value", ["nope:x.json", "sarif:", "sarif", ":x.sarif", "SARIF:x"])
def test_a_bad_report_value_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    plant(repo)
    assert main(["scan", "--report", value]) == 2
    out, err = capsys.readouterr()
    assert "--report" in err and "FORMAT:PATH" in err
    assert out == ""  # rejected before anything was scanned
    assert not list(repo.glob("x*"))


def test_an_unwritable_report_is_an_error_after_the_terminal_report(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(repo)
    (repo / "blocker").write_text("a file where a directory should be\n")
    assert main(["scan", "--report", "sarif:blocker/out.sarif"]) == 2
    out, err = capsys.readouterr()
    assert "Found 3 Copera tokens" in out
    assert "blocker/out.sarif: cannot write" in err and "Traceback" not in err


def test_history_findings_carry_their_commit_in_every_report(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_pat_", 32, seed=60)
    in_message = make_token("cp_key_", 32, seed=61)
    (repo / "old.env").write_text(f"T={token}\n")
    commit_all(repo, "add config")
    (repo / "old.env").write_text("T=from-the-vault\n")
    commit_all(repo, f"rotate; the old key was {in_message}")
    sha = git(repo, "rev-parse", "HEAD~1").strip()
    assert main(["scan", "--history", *report_args(REPORTS)]) == 1
    capsys.readouterr()
    results = json.loads(read(repo, "sarif"))["runs"][0]["results"]
    validate_sarif(json.loads(read(repo, "sarif")))
    by_rule = {r["ruleId"]: r for r in results}
    assert by_rule["copera-pat"]["properties"]["commit"] == sha
    message = by_rule["copera-key"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert message["uri"].startswith("commit-message/")
    gitlab = json.loads(read(repo, "gitlab"))
    validate_gitlab(gitlab)
    commits = {v["location"]["commit"]["sha"] for v in gitlab["vulnerabilities"]}
    assert sha in commits
    validate_junit(read(repo, "junit"))
    for fmt in REPORTS:
        data = (repo / REPORTS[fmt]).read_text(encoding="utf-8")
        assert token not in data and in_message not in data, fmt
