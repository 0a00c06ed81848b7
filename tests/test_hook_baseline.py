"""Adopting the hook on a repository that already has tokens, through the real pre-commit.

The before/after of issue 4: twenty planted fake tokens, a baseline, a quiet hook, then one
new token that the hook blocks alone. Run with ``-s`` to see the transcript
(``pytest -s tests/test_hook_baseline.py -k transcript``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import List

import pytest

from copera_secretscan.cli.main import main
from tests.conftest import commit_all, git, git_hooked, install_hooks, pre_commit
from tests.tokens import make_token

BASELINE = ".copera-secretscan-baseline.json"
CONFIG = """\
repos:
  - repo: {path}
    rev: {sha}
    hooks:
      - id: copera-secretscan
        args: [--baseline, {baseline}]
"""
FILES = [
    "src/settings.py",
    "src/client.js",
    "tests/fixtures/tokens.json",
    "docs/api.md",
    "deploy/.env.example",
    "scripts/seed.sh",
    "config/app.yaml",
    "notebooks/data.bin",
]
PREFIXES = ["cp_pat_", "cp_key_", "cp_oat_"]


def planted_tokens() -> List[str]:
    return [make_token(PREFIXES[i % 3], 24 + i, seed=300 + i) for i in range(20)]


def git_commit(repo: Path, home: Path, message: str) -> subprocess.CompletedProcess[str]:
    return git_hooked(repo, home, "commit", "-m", message)


@pytest.fixture
def adopted(
    repo: Path,
    hook_repo: tuple[str, str],
    pre_commit_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> Path:
    """A repo with 20 committed tokens, its baseline and the hook, committed and installed."""
    for index, token in enumerate(planted_tokens()):
        path = repo / FILES[index % len(FILES)]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            handle.write(f'line {index}: value = "{token}"\n')
    commit_all(repo, "history with tokens in it")
    assert main(["baseline", "create"]) == 0
    capsys.readouterr()
    path, sha = hook_repo
    install_hooks(repo, pre_commit_home, CONFIG.format(path=path, sha=sha, baseline=BASELINE))
    return repo


def test_transcript_twenty_accepted_then_one_new_blocked(
    adopted: Path, pre_commit_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = planted_tokens()
    assert main(["scan", "--quiet"]) == 1  # without the baseline: all twenty block
    without = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["scan", "--baseline", BASELINE]) == 0  # outside pre-commit it says so
    accepted = capsys.readouterr().out

    before = pre_commit(adopted, pre_commit_home, "run", "--all-files", "--verbose")
    new = make_token("cp_pat_", 32, seed=999)
    (adopted / "src" / "new_feature.py").write_text(f'API = "{new}"\n')
    git(adopted, "add", "src/new_feature.py")
    committed = git_commit(adopted, pre_commit_home, "add a feature")
    after = committed.stdout + committed.stderr

    with capsys.disabled():
        print("\n--- without the baseline: copera-secretscan scan\n" + without)
        shown = "".join(line for line in before.stdout.splitlines(True) if "[INFO]" not in line)
        print("--- before: pre-commit run --all-files --verbose (baseline applied)\n" + shown)
        print("--- after: git commit of one new token\n" + after)
    assert before.returncode == 0, before.stdout
    # A passing batch says nothing under pre-commit (issue 12), even with --verbose; the same
    # scan outside pre-commit says how many the baseline accepted.
    assert "Copera tokens found" not in before.stdout
    assert "20 allowed)" in accepted
    assert without.startswith("Found 20 Copera tokens in 8 places")
    assert committed.returncode == 1
    assert "src/new_feature.py:1:8: Copera Personal Access Token (copera-pat)" in after
    assert "Found 1 Copera token in 1 place" in after
    assert not any(token in after + before.stdout for token in [*tokens, new])
    assert git(adopted, "rev-list", "--count", "HEAD").strip() == "2"


def test_editing_a_baselined_file_passes(adopted: Path, pre_commit_home: Path) -> None:
    settings = adopted / "src" / "settings.py"
    lines = settings.read_text().splitlines(keepends=True)
    settings.write_text("# reordered\n" + "".join(reversed(lines)) + "DEBUG = False\n")
    git(adopted, "add", "src/settings.py")

    result = git_commit(adopted, pre_commit_home, "tidy settings")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stderr


def test_a_baselined_token_copied_to_a_new_file_is_blocked(
    adopted: Path, pre_commit_home: Path
) -> None:
    old = planted_tokens()[0]
    (adopted / "src" / "copy.py").write_text(f"X = '{old}'\n")
    git(adopted, "add", "src/copy.py")

    result = git_commit(adopted, pre_commit_home, "copy a token")

    assert result.returncode == 1
    assert "src/copy.py:1:6" in result.stderr
    assert "Found 1 Copera token in 1 place" in result.stderr


def test_the_hook_never_writes_the_baseline(adopted: Path, pre_commit_home: Path) -> None:
    before = (adopted / BASELINE).read_bytes()
    (adopted / "src" / "settings.py").write_text("nothing left\n")  # a baselined token removed
    (adopted / "late.txt").write_text(make_token("cp_key_", 30, seed=998) + "\n")
    git(adopted, "add", "-A")

    result = git_commit(adopted, pre_commit_home, "mixed")

    assert result.returncode == 1
    assert (adopted / BASELINE).read_bytes() == before
    assert "stale baseline entry" in result.stdout + result.stderr
