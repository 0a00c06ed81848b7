"""A symbolic link is stored by git as its target's text: that text is scanned, never followed
in a walk, and a link named explicitly is scanned both as its text and through to its target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copera_secretscan.cli.main import main
from tests.conftest import git
from tests.tokens import make_token


def findings(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list]:
    code = main(["scan", "-f", "json", "--show-secrets", *argv])
    return code, json.loads(capsys.readouterr().out)["findings"]


def test_a_token_in_a_links_text_is_found_by_a_walk_without_following_it(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_key_", 30, seed=71)
    outside = tmp_path / "outside.txt"
    outside.write_text(f"{make_token('cp_pat_', 30, seed=72)}\n")  # never reached by a walk
    (repo / "cfg").symlink_to(f"/etc/copera/{token}")  # dangling here, committed all the same
    (repo / "out").symlink_to(outside)
    code, found = findings(capsys, ".")
    assert code == 1
    assert [(f["path"], f["secret"], f["line"]) for f in found] == [("cfg", token, 1)]
    git(repo, "add", "-A")
    code, staged = findings(capsys, "--staged")
    assert [(f["path"], f["secret"]) for f in staged] == [("cfg", token)]


def test_a_named_link_is_scanned_as_its_text_and_through_to_its_target(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_text = make_token("cp_oat_", 30, seed=73)
    in_target = make_token("cp_pat_", 30, seed=74)
    target = tmp_path / in_text / "settings.py"
    target.parent.mkdir()
    target.write_text(f"K = '{in_target}'\n")
    (repo / "settings.py").symlink_to(target)
    code, found = findings(capsys, "settings.py")
    assert code == 1
    assert sorted(f["secret"] for f in found) == sorted([in_text, in_target])


def test_an_ignored_link_is_skipped_like_an_ignored_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".gitignore").write_text("build\n")
    (repo / "build").symlink_to(f"/tmp/{make_token('cp_key_', 30, seed=75)}")
    code, found = findings(capsys, ".")
    assert (code, found) == (0, [])


def test_the_hooks_lean_path_reads_a_links_text_not_its_clean_target(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from copera_secretscan import quick

    token = make_token("cp_pat_", 30, seed=76)
    clean = repo / "clean.txt"
    clean.write_text("nothing\n")
    (repo / "link").symlink_to(f"clean.txt#{token}")  # dangling, but its text holds the token
    (repo / "good").symlink_to("clean.txt")
    assert quick.hook_main(["good", "clean.txt"]) == 0
    assert quick.hook_main(["link", "clean.txt"]) == 1
    assert token not in capsys.readouterr().out
