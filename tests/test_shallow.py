"""A shallow clone holds only the newest commits: a history, range or push scan that reaches its
boundary has not seen the older history, and says so (exit 2), never "no tokens found"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copera_secretscan.cli.main import main
from tests.conftest import commit_all, git
from tests.tokens import make_token


@pytest.fixture
def shallow(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A clone of depth 2 of four commits; the token lives only in the first one's file."""
    token = make_token("cp_pat_", 32, seed=81)
    (repo / "config.py").write_text(f"KEY = '{token}'\n")
    commit_all(repo, "one")
    (repo / "config.py").write_text("KEY = None\n")
    for n in ("two", "three", "four"):
        (repo / f"{n}.txt").write_text(f"{n}\n")
        commit_all(repo, n)
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(clone))
    monkeypatch.chdir(clone)
    return clone, token


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(["scan", *argv, "-f", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_history_of_a_shallow_clone_is_an_incomplete_scan(
    shallow: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = scan(capsys, "--history")
    assert code == 2
    [error] = report["errors"]
    assert error["path"] is None
    assert "shallow clone" in error["message"] and "fetch-depth: 0" in error["message"]


def test_a_range_that_stops_before_the_boundary_is_complete(
    shallow: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = scan(capsys, "--git", "HEAD~1..HEAD")
    assert (code, report["errors"]) == (0, [])
    code, report = scan(capsys, "--git", "HEAD")  # everything reachable: down to the boundary
    assert code == 2


def test_a_complete_clone_has_no_such_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "a")
    code, report = scan(capsys, "--history")
    assert (code, report["errors"]) == (0, [])
