"""The published hook, run by the real pre-commit program, in a real repository.

These prove the manifest (.pre-commit-hooks.yaml) and the shipped console script agree, and
that the hook is correct in every mode pre-commit runs it: ``git commit``,
``pre-commit run --all-files`` and ``--files`` (diff-only hooks pass vacuously there).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git, git_hooked, install_hooks, pre_commit
from tests.tokens import make_token

CONFIG = """\
repos:
  - repo: {path}
    rev: {sha}
    hooks:
      - id: copera-secretscan
"""


@pytest.fixture
def hooked_repo(repo: Path, hook_repo: tuple[str, str], pre_commit_home: Path) -> Path:
    path, sha = hook_repo
    (repo / "README.md").write_text("hello\n")
    install_hooks(repo, pre_commit_home, CONFIG.format(path=path, sha=sha))
    return repo


def git_commit(repo: Path, home: Path, message: str) -> subprocess.CompletedProcess[str]:
    return git_hooked(repo, home, "commit", "-m", message)


def test_commit_adding_a_token_is_blocked(hooked_repo: Path, pre_commit_home: Path) -> None:
    token = make_token("cp_key_", 40, seed=7)
    (hooked_repo / "app").mkdir()
    (hooked_repo / "app" / "settings.py").write_text(f"DEBUG = True\nKEY = '{token}'\n")
    git(hooked_repo, "add", "app/settings.py")

    result = git_commit(hooked_repo, pre_commit_home, "add settings")

    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "app/settings.py:2:8" in output
    assert "copera-key" in output
    assert token not in output  # redacted, even in the hook's log
    assert git(hooked_repo, "rev-list", "--count", "HEAD").strip() == "1"


def test_clean_commit_passes(hooked_repo: Path, pre_commit_home: Path) -> None:
    (hooked_repo / "notes.txt").write_text("nothing secret here: cp_pat_your_token_here\n")
    git(hooked_repo, "add", "notes.txt")

    result = git_commit(hooked_repo, pre_commit_home, "notes")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout + result.stderr
    assert git(hooked_repo, "rev-list", "--count", "HEAD").strip() == "2"


def test_allowed_line_passes(hooked_repo: Path, pre_commit_home: Path) -> None:
    token = make_token("cp_pat_", 32, seed=8)
    (hooked_repo / "test_api.py").write_text(
        f"FAKE = '{token}'  # copera-secretscan: allow\n"
        "# copera-secretscan: allow-next-line\n"
        f"OTHER = '{token}'\n"
    )
    git(hooked_repo, "add", "test_api.py")

    result = git_commit(hooked_repo, pre_commit_home, "tests")

    assert result.returncode == 0, result.stdout + result.stderr


def test_all_files_and_files_modes_scan_committed_files(
    hooked_repo: Path, pre_commit_home: Path
) -> None:
    """A token already committed (hook skipped) is still caught by --all-files and --files."""
    token = make_token("cp_oat_", 48, seed=9)
    (hooked_repo / "bin.dat").write_bytes(b"\x00\x01SQLite\x00" + token.encode() + b"\x00\xff")
    git(hooked_repo, "add", "bin.dat")
    git(hooked_repo, "commit", "-q", "--no-verify", "-m", "sneak it in")

    all_files = pre_commit(hooked_repo, pre_commit_home, "run", "--all-files")
    one_file = pre_commit(hooked_repo, pre_commit_home, "run", "--files", "bin.dat")
    other_file = pre_commit(hooked_repo, pre_commit_home, "run", "--files", "README.md")

    assert all_files.returncode == 1
    assert "bin.dat:1:" in all_files.stdout
    assert one_file.returncode == 1
    assert other_file.returncode == 0, other_file.stdout


def test_unstaged_token_is_not_blamed_on_the_commit(
    hooked_repo: Path, pre_commit_home: Path
) -> None:
    """pre-commit stashes unstaged edits, so the hook sees exactly what is committed."""
    token = make_token("cp_pat_", 32, seed=10)
    (hooked_repo / "config.py").write_text("A = 1\n")
    git(hooked_repo, "add", "config.py")
    (hooked_repo / "config.py").write_text(f"A = 1\nB = '{token}'\n")

    result = git_commit(hooked_repo, pre_commit_home, "config")

    assert result.returncode == 0, result.stdout + result.stderr
    assert token in (hooked_repo / "config.py").read_text()  # the user's edit is restored


def test_manifest_entry_is_the_installed_console_script() -> None:
    import yaml

    manifest = Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml"
    hooks = {hook["id"]: hook for hook in yaml.safe_load(manifest.read_text())}
    hook = hooks["copera-secretscan"]
    assert hook["language"] == "python"
    assert "types" not in hook  # binaries are scanned too
    assert hook.get("pass_filenames", True) is True
    script = Path(sys.executable).parent / hook["entry"].split()[0]
    assert script.exists(), f"{script} is not installed by pyproject.toml"


def test_every_published_hook_states_the_pre_commit_it_needs() -> None:
    """The stage names the manifest uses (pre-commit, pre-push, commit-msg) came with 3.2.0:
    an older pre-commit must refuse the hooks in one clear line, not run them at no stage."""
    import yaml
    from pre_commit.clientlib import MANIFEST_SCHEMA, load_manifest

    manifest = Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml"
    hooks = yaml.safe_load(manifest.read_text())
    assert all(hook.get("minimum_pre_commit_version") == "3.2.0" for hook in hooks)
    assert MANIFEST_SCHEMA is not None and load_manifest(str(manifest))  # a valid manifest
