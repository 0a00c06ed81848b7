"""pre-commit runs a hook once per batch of file names and, when any batch fails, shows the
output of every batch: a clean batch must print nothing, so a blocked commit shows one summary.

pre-commit (``xargs.partition``) cuts a batch when the command line would pass the platform's
limit (at most 128 KiB) or holds more than ``len(files) / jobs`` names: a few thousand files
with long names force several batches on any machine, however many cores it has.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from copera_secretscan.cli.main import cli
from tests.conftest import cli_runner, git, install_hooks, pre_commit
from tests.tokens import make_token

CONFIG = """\
repos:
  - repo: {path}
    rev: {sha}
    hooks:
      - id: copera-secretscan
"""
FILES = 1600
LONG = "a-rather-long-directory-name-so-that-the-command-line-fills-up-" * 2


@pytest.fixture
def many_files(repo: Path, hook_repo: tuple[str, str], pre_commit_home: Path) -> Path:
    """A repository with more files than one batch holds (~240 KB of names), hook installed."""
    path, sha = hook_repo
    folder = repo / LONG
    folder.mkdir()
    for n in range(FILES):
        (folder / f"module_{n:05d}.txt").write_text(f"value {n}\n")
    install_hooks(repo, pre_commit_home, CONFIG.format(path=path, sha=sha))
    return repo


def test_a_token_in_one_batch_gives_exactly_one_summary(
    many_files: Path, pre_commit_home: Path
) -> None:
    token = make_token("cp_pat_", 32, seed=12)
    (many_files / LONG / "module_00800.txt").write_text(f"TOKEN = '{token}'\n")
    git(many_files, "add", "-A")

    result = pre_commit(many_files, pre_commit_home, "run", "--all-files")

    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    summaries = [line for line in output.splitlines() if line.startswith(("Found", "No Copera"))]
    assert len(summaries) == 1, output
    assert "No Copera tokens found" not in output
    found = re.search(r"Found 1 Copera token in 1 place: .* \(([\d,]+) files scanned\)", output)
    assert found is not None, output
    # the failing batch scanned only its own share: pre-commit really split the files
    assert int(found.group(1).replace(",", "")) < FILES, output
    assert token not in output


def test_clean_batches_print_nothing_even_when_verbose(
    many_files: Path, pre_commit_home: Path
) -> None:
    result = pre_commit(many_files, pre_commit_home, "run", "--all-files", "--verbose")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Passed" in output
    assert "Copera tokens found" not in output  # verbose shows each batch's output: none


@pytest.mark.parametrize("args", [["scan", "--staged"], ["scan", "notes.txt"]])
def test_a_clean_scan_under_pre_commit_is_silent(
    repo: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    (repo / "notes.txt").write_text("nothing here\n")
    git(repo, "add", "notes.txt")
    runner = cli_runner()

    alone = runner.invoke(cli, args)
    monkeypatch.setenv("PRE_COMMIT", "1")
    hooked = runner.invoke(cli, args)

    assert (alone.exit_code, hooked.exit_code) == (0, 0)
    assert "No Copera tokens found (1 file scanned)." in alone.stdout
    assert hooked.stdout == ""


def test_a_failing_scan_under_pre_commit_still_speaks(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "leak.txt").write_text(f"{make_token('cp_key_', 32, seed=3)}\n")
    git(repo, "add", "leak.txt")
    monkeypatch.setenv("PRE_COMMIT", "1")

    result = cli_runner().invoke(cli, ["scan", "--staged"])

    assert result.exit_code == 1
    assert "Found 1 Copera token in 1 place" in result.stdout


def test_the_lean_hook_check_is_silent_under_pre_commit(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from copera_secretscan import quick

    (repo / "notes.txt").write_text("nothing here\n")
    git(repo, "add", "notes.txt")

    assert quick.hook_main(["notes.txt"]) == 0
    alone = capsys.readouterr().out
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert quick.hook_main(["notes.txt"]) == 0

    assert alone == "No Copera tokens found (1 file scanned).\n"
    assert capsys.readouterr().out == ""


def test_an_incomplete_scan_under_pre_commit_still_speaks(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRE_COMMIT", "1")

    result = cli_runner().invoke(cli, ["scan", "missing.txt"])

    assert result.exit_code == 2
    assert "Scan incomplete: 1 error" in result.stdout
