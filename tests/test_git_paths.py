"""Paths from git read like paths from disk: relative to where you stand, printable everywhere."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from copera_secretscan.cli.main import main
from copera_secretscan.report import FORMATS
from tests.conftest import commit_all, git
from tests.tokens import make_token


def test_staged_paths_are_relative_to_the_working_directory(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_pat_", 32, seed=51)
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text(f"T = '{token}'\n")
    (repo / "top.py").write_text(f"T = '{token}'\n")
    git(repo, "add", ".")
    monkeypatch.chdir(repo / "src")

    assert main(["scan", "--staged", "-f", "json"]) == 1

    paths = sorted(f["path"] for f in json.loads(capsys.readouterr().out)["findings"])
    assert paths == sorted(["app.py", (repo / "top.py").as_posix()])


@pytest.mark.parametrize("fmt", FORMATS)
def test_history_finding_in_a_non_utf8_path_renders_in_every_format(
    fmt: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_key_", 32, seed=52)
    name = os.fsdecode(b"caf\xe9 notes.txt")
    (repo / name).write_text(f"key: {token}\n")
    commit_all(repo, "add notes")

    assert main(["scan", "--history", "-f", fmt]) == 1

    out = capsys.readouterr().out
    out.encode("utf-8")  # no lone surrogates reach any writer
    assert token not in out
    if fmt == "json":
        [finding] = json.loads(out)["findings"]
        assert finding["path"] == "caf\\xe9 notes.txt"
