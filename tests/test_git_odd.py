"""Repositories that are not a tidy working clone: empty, shallow, bare, LFS, huge binaries,
undecodable names, and a git that is missing or too old."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from copera_secretscan.cli.main import main
from copera_secretscan.engine import scan as engine
from copera_secretscan.sources import git as gitmod
from tests.conftest import commit_all, git


def history_json(capsys: pytest.CaptureFixture[str]) -> tuple:
    code = main(["scan", "--history", "--format", "json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out else None, err


def test_empty_repository_has_nothing_to_find(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, err = history_json(capsys)
    assert (code, report["findings"], report["errors"], err) == (0, [], [], "")


def test_shallow_clone_blames_the_boundary_commit(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "k.txt").write_text(f"{token}\n")
    commit_all(repo, "token")
    for n in range(3):
        (repo / "n.txt").write_text(f"{n}\n")
        commit_all(repo, f"n{n}")
    shallow = repo.parent / "shallow"
    git(repo.parent, "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow))
    monkeypatch.chdir(shallow)

    code, report, _ = history_json(capsys)

    assert code == 1
    assert [(f["path"], f["commit"]) for f in report["findings"]] == [
        ("k.txt", git(shallow, "rev-parse", "HEAD").strip())
    ]


def test_bare_repository(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "k.txt").write_text(f"{token}\n")
    first = commit_all(repo, "token")
    (repo / "k.txt").write_text("gone\n")
    commit_all(repo, "remove")
    bare = repo.parent / "bare.git"
    git(repo.parent, "clone", "-q", "--bare", str(repo), str(bare))
    monkeypatch.chdir(bare)

    code, report, _ = history_json(capsys)

    assert code == 1
    [finding] = report["findings"]
    assert (finding["path"], finding["commit"], finding["present_at_head"]) == (
        "k.txt",
        first,
        False,
    )


def test_lfs_pointers_are_scanned_as_text_and_never_smudged(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        f"size 12345\nx-note {token}\n"
    )
    (repo / "model.bin").write_text(pointer)
    commit_all(repo, "pointer")
    marker = repo.parent / "smudged"  # git-lfs would fetch the real content here
    git(repo, "config", "filter.lfs.smudge", f"touch {marker}; cat")
    git(repo, "config", "filter.lfs.process", f"touch {marker}")
    git(repo, "config", "filter.lfs.required", "true")

    code, report, _ = history_json(capsys)

    assert code == 1 and report["findings"][0]["path"] == "model.bin"
    assert not marker.exists()


def test_huge_binary_blob_is_streamed(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    size = 3 * engine.CHUNK_SIZE + 123
    blob = bytearray(os.urandom(size).replace(b"\n", b"x"))
    blob[size - 500 : size - 500 + len(token)] = token.encode()
    blob[size - 501] = ord("\n")
    (repo / "core.dump").write_bytes(bytes(blob))
    commit_all(repo, "dump")

    code, report, _ = history_json(capsys)

    assert code == 1
    [finding] = report["findings"]
    assert (finding["path"], finding["line"], finding["column"]) == ("core.dump", 2, 1)
    assert report["stats"]["bytes"] >= size


def test_undecodable_path_and_message(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    name = b"caf\xe9.txt"  # Latin-1, not UTF-8
    (repo.joinpath(os.fsdecode(name))).write_bytes(token.encode() + b"\n")
    git(repo, "add", ".")
    message = b"r\xe9sum\xe9 " + token.encode() + b"\n"
    subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-F", "-"], cwd=repo, input=message, check=True
    )

    code = main(["scan", "--history"])
    out, err = capsys.readouterr()

    assert code == 1, err
    # shown the way git quotes it, and the same as a file on disk with that name
    assert "caf\\xe9.txt:1:1" in out and "commit message line 1" in out
    assert main(["scan", "--history", "--format", "json"]) == 1
    paths = {f["path"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert paths == {None, "caf\\xe9.txt"}


def test_history_on_the_oldest_supported_git(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git 2.30 and 2.31 lack ``--filter=object:type``; no git version needs it any more: every
    version streams trees too, so that a missing one is reported."""
    (repo / "d").mkdir()
    (repo / "d" / "k.txt").write_text(f"{token}\n")
    first = commit_all(repo, f"message {token}")
    monkeypatch.setattr(gitmod, "version", lambda: (2, 30, 1))

    code, report, _ = history_json(capsys)

    assert code == 1
    assert sorted((f["path"] or "", f["commit"]) for f in report["findings"]) == [
        ("", first),
        ("d/k.txt", first),
    ]


def fake_git(tmp_path: Path, version: str) -> str:
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text(f"#!/bin/sh\necho 'git version {version}'\n")
    fake.chmod(0o755)
    return str(bin_dir)


@pytest.mark.parametrize("mode", [["--history"], ["--staged"], ["--git", "HEAD"]])
def test_old_git_is_a_one_line_error(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: list
) -> None:
    path = fake_git(tmp_path, "2.25.1") + os.pathsep + os.path.dirname(sys.executable)
    result = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", *mode],
        env=dict(os.environ, PATH=path),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "copera-secretscan: error: git 2.25.1 is too old; git scans need 2.30\n"
    )


@pytest.mark.parametrize("mode", [["--history"], ["--staged"], ["--pre-push"]])
def test_missing_git_is_a_one_line_error(repo: Path, tmp_path: Path, mode: list) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", *mode],
        env=dict(os.environ, PATH=str(empty), PRE_COMMIT_TO_REF="a" * 40),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("copera-secretscan: error: git is not installed")
    assert result.stderr.count("\n") == 1


def test_partial_clone_reports_missing_blobs_instead_of_fetching(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "a.txt").write_text("hello\n")
    commit_all(repo, "a")
    git(repo, "config", "uploadpack.allowFilter", "true")
    partial = repo.parent / "partial"
    git(
        repo.parent,
        "clone",
        "-q",
        "--filter=blob:none",
        "--no-checkout",
        f"file://{repo}",
        str(partial),
    )
    monkeypatch.chdir(partial)

    code, report, err = history_json(capsys)

    blob = git(repo, "rev-parse", "HEAD:a.txt").strip()
    assert code == 2
    assert report["errors"][0]["path"] == blob and "not fetched" in err
    still_missing = git(partial, "rev-list", "--objects", "--all", "--missing=print")
    assert f"?{blob}" in still_missing.split()
