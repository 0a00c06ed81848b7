"""Git scans that meet odd names or a failing git: findings already made are still reported, and
an error names git's actual complaint rather than its usage text."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from copera_secretscan.cli.main import main
from copera_secretscan.models import printable
from tests.conftest import commit_all, git
from tests.tokens import make_token


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, Dict[str, Any], str]:
    code = main(["scan", *args, "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else {}, err


def truncate_blob(repo: Path, rev: str) -> None:
    """Rewrite a loose blob so its header promises more bytes than it holds: git's stream of
    that object ends early, as it would on a damaged disk."""
    blob = git(repo, "rev-parse", rev).strip()
    loose = repo / ".git" / "objects" / blob[:2] / blob[2:]
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"blob 4000\0short"))


def test_newline_in_a_path_keeps_history_answers_in_step(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = make_token("cp_pat_", 32, seed=61), make_token("cp_pat_", 32, seed=62)
    (repo / "a\nb.txt").write_text(f"x={first}\n")
    (repo / "zz.txt").write_text(f"y={second}\n")
    commit = commit_all(repo, "two files")

    code, report, err = scan(capsys, "--history")

    assert (code, report["errors"]) == (1, []), err
    found = sorted((f["path"], f["commit"], f["present_at_head"]) for f in report["findings"])
    assert found == sorted([(printable("a\nb.txt"), commit, True), ("zz.txt", commit, True)])


def test_history_failure_after_findings_keeps_them(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "clean.txt").write_text("nothing to see here\n")
    commit = commit_all(repo, f"deploy\n\nused {token}")
    truncate_blob(repo, "HEAD:clean.txt")

    code, report, err = scan(capsys, "--history")

    assert code == 1  # tokens found, and the error is still reported
    assert [(f["path"], f["commit"]) for f in report["findings"]] == [(None, commit)]
    [error] = report["errors"]
    assert "git cat-file" in error["message"] and "clean.txt" in error["message"]
    assert "clean.txt" in err


def test_history_failure_before_any_finding_stays_fatal(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "clean.txt").write_text("nothing to see here\n")
    commit_all(repo, "plain")
    truncate_blob(repo, "HEAD:clean.txt")

    code, report, err = scan(capsys, "--history")

    assert (code, report) == (2, {})
    assert err.count("\n") == 1 and "clean.txt" in err


def test_staged_failure_after_findings_keeps_them(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "a.txt").write_text(f"{token}\n")
    (repo / "b.txt").write_text("nothing to see here\n")
    git(repo, "add", ".")
    truncate_blob(repo, ":b.txt")

    code, report, err = scan(capsys, "--staged")

    assert code == 1
    assert [f["path"] for f in report["findings"]] == ["a.txt"]
    [error] = report["errors"]
    assert "b.txt" in error["message"] and "b.txt" in err


def test_bad_range_names_the_revision_not_gits_usage(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")

    assert main(["scan", "--git", "nope..HEAD"]) == 2
    err = capsys.readouterr().err

    assert "ambiguous argument 'nope..HEAD'" in err
    assert "<command>" not in err and err.count("\n") == 1


def test_staged_outside_a_repository_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", os.fspath(tmp_path))

    assert main(["scan", "--staged"]) == 2
    err = capsys.readouterr().err

    assert "not a git repository" in err
    assert "usage" not in err and "--" not in err and err.count("\n") == 1
