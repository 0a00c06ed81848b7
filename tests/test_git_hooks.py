"""The push and commit-msg hooks, run by the real pre-commit program and by plain git hooks, and
how ``--pre-push`` turns what git or pre-commit says into revisions to scan."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from copera_secretscan.sources import pushes
from tests.conftest import commit_all, git, git_hooked, install_hooks
from tests.tokens import make_token

CONFIG = """\
default_install_hook_types: [pre-push, commit-msg]
repos:
  - repo: {path}
    rev: {sha}
    hooks:
      - id: copera-secretscan-push
      - id: copera-secretscan-commit-msg
"""
ZERO = "0" * 40


run_git = git_hooked


def add_remote(repo: Path) -> Path:
    remote = repo.parent / "remote.git"
    git(repo.parent, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    return remote


@pytest.fixture
def hooked(repo: Path, hook_repo: tuple, pre_commit_home: Path) -> Path:
    path, sha = hook_repo
    (repo / "README.md").write_text("hello\n")
    install_hooks(repo, pre_commit_home, CONFIG.format(path=path, sha=sha))
    add_remote(repo)
    return repo


def test_push_hook_blocks_a_token_and_lets_a_clean_push_through(
    hooked: Path, pre_commit_home: Path, token: str
) -> None:
    first = run_git(hooked, pre_commit_home, "push", "-q", "origin", "main")
    assert first.returncode == 0, first.stdout + first.stderr  # a new branch from a root commit

    (hooked / "deploy.sh").write_text(f"export COPERA_TOKEN={token}\n")
    commit_all(hooked, "deploy script")
    blocked = run_git(hooked, pre_commit_home, "push", "-q", "origin", "main")

    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0
    assert "deploy.sh:1:21" in output and token not in output
    assert git(hooked, "rev-parse", "origin/main") != git(hooked, "rev-parse", "main")

    git(hooked, "reset", "-q", "--hard", "HEAD~1")
    (hooked / "deploy.sh").write_text('export COPERA_TOKEN="$(vault read copera)"\n')
    commit_all(hooked, "deploy script")
    clean = run_git(hooked, pre_commit_home, "push", "-q", "origin", "main")
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_push_hook_scans_a_new_branch_and_its_commit_messages(
    hooked: Path, pre_commit_home: Path
) -> None:
    assert run_git(hooked, pre_commit_home, "push", "-q", "origin", "main").returncode == 0
    git(hooked, "checkout", "-q", "-b", "feature")
    (hooked / "a.txt").write_text("a\n")
    commit_all(hooked, f"works with {make_token('cp_key_', seed=5)}")
    (hooked / "a.txt").write_text("b\n")
    commit_all(hooked, "more")

    blocked = run_git(hooked, pre_commit_home, "push", "-q", "origin", "feature")

    assert blocked.returncode != 0
    assert "commit message line 1" in blocked.stdout + blocked.stderr


def test_commit_msg_hook_blocks_a_token_in_the_message(
    hooked: Path, pre_commit_home: Path, token: str
) -> None:
    (hooked / "a.txt").write_text("a\n")
    git(hooked, "add", "a.txt")

    blocked = run_git(hooked, pre_commit_home, "commit", "-q", "-m", f"use {token} for now")

    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0
    assert "commit message:1:5" in output and token not in output
    assert git(hooked, "rev-list", "--count", "HEAD").strip() == "1"
    ok = run_git(hooked, pre_commit_home, "commit", "-q", "-m", "add a")
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_plain_pre_push_hook_reads_gits_lines(repo: Path, token: str) -> None:
    """The docs/git-hooks.md recipe: git's own stdin, no pre-commit."""
    hook = repo / ".git" / "hooks" / "pre-push"
    script = Path(sys.executable).parent / "copera-secretscan"
    hook.write_text(f'#!/bin/sh\nexec "{script}" scan --pre-push --quiet\n')
    hook.chmod(0o755)
    add_remote(repo)
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")
    assert subprocess.run(["git", "push", "-q", "origin", "main"], cwd=repo).returncode == 0
    git(repo, "branch", "old")
    assert subprocess.run(["git", "push", "-q", "origin", "old"], cwd=repo).returncode == 0

    (repo / "a.txt").write_text(f"{token}\n")
    commit_all(repo, "token")
    blocked = subprocess.run(
        ["git", "push", "-q", "origin", "main"], cwd=repo, capture_output=True, text=True
    )
    assert blocked.returncode != 0 and "a.txt:1:1" in blocked.stdout + blocked.stderr
    deleted = subprocess.run(["git", "push", "-q", "origin", ":old"], cwd=repo)
    assert deleted.returncode == 0  # deleting a branch sends no objects


@pytest.fixture
def two_commits(repo: Path) -> Dict[str, str]:
    (repo / "a.txt").write_text("a\n")
    base = commit_all(repo, "base")
    (repo / "a.txt").write_text("b\n")
    return {"base": base, "tip": commit_all(repo, "tip")}


def test_revisions_from_pre_commit_variables(two_commits: Dict[str, str]) -> None:
    base, tip = two_commits["base"], two_commits["tip"]
    env = {"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": tip}
    assert pushes.revs_from_env(env) == [tip, "--not", base]
    assert pushes.revs_from_env({**env, "PRE_COMMIT_FROM_REF": ZERO}) == [tip, "--not", "--remotes"]
    assert pushes.revs_from_env({**env, "PRE_COMMIT_TO_REF": ZERO}) == []  # branch deleted
    root_push = {"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main", "PRE_COMMIT_REMOTE_NAME": "o"}
    assert pushes.revs_from_env(root_push) == ["refs/heads/main", "--not", "--remotes"]
    assert pushes.revs_from_env({}) is None


def test_revisions_from_git_lines(two_commits: Dict[str, str]) -> None:
    base, tip = two_commits["base"], two_commits["tip"]
    update = f"refs/heads/main {tip} refs/heads/main {base}"
    new = f"refs/heads/x {tip} refs/heads/x {ZERO}"
    unknown = f"refs/heads/y {tip} refs/heads/y {'1' * 40}"  # the remote has what we lack
    delete = f"(delete) {ZERO} refs/heads/z {base}"
    assert pushes.revs_from_lines([update]) == [tip, "--not", base]
    assert pushes.revs_from_lines([new]) == [tip, "--not", "--remotes"]
    assert pushes.revs_from_lines([unknown]) == [tip, "--not", "--remotes"]
    assert pushes.revs_from_lines([delete, ""]) == []
    with pytest.raises(pushes.FatalError):
        pushes.revs_from_lines(["garbage"])


def test_pre_push_by_hand_on_a_terminal_is_an_error_not_a_pass(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from copera_secretscan.cli.main import main

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    assert main(["scan", "--pre-push"]) == 2
    assert "--git RANGE" in capsys.readouterr().err


def test_commit_msg_scans_comment_lines_and_everything_below_the_scissors_line(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    """Below the scissors line is not always cut: ``git commit -F`` keeps it (see
    tests/test_commit_msg.py), and the hook cannot tell which cleanup git will apply."""
    from copera_secretscan.cli.main import main

    other = make_token("cp_key_", seed=9)
    message = repo / ".git" / "COMMIT_EDITMSG"
    message.write_text(
        f"Subject\n\n# token for later: {token}\n"
        "# ------------------------ >8 ------------------------\n"
        f"diff --git a/x b/x\n+{other}\n"
    )

    assert main(["scan", "--commit-msg", str(message)]) == 1
    out = capsys.readouterr().out
    assert "commit message:3:20" in out and "commit message:6:2" in out
    assert main(["scan", "--commit-msg", str(repo / "missing")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_raw_git_hook_recipes_of_the_docs_block_a_token_at_each_door(
    repo: Path, token: str
) -> None:
    """docs/git-hooks.md's snippets, run as written, with the scanner on git's PATH."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "git-hooks.md").read_text()
    snippets = doc.split("```sh\n")[1:]
    assert len(snippets) == 3
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for snippet in snippets:
        subprocess.run(["sh", "-c", snippet.split("```")[0]], cwd=repo, env=env, check=True)
    add_remote(repo)
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")

    def attempt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)

    assert attempt("commit", "-q", "-m", f"note {token}").returncode != 0  # commit-msg
    assert attempt("commit", "-q", "-m", "initial").returncode == 0
    assert attempt("push", "-q", "origin", "main").returncode == 0
    (repo / "a.txt").write_text(f"{token}\n")
    git(repo, "add", "a.txt")
    blocked = attempt("commit", "-q", "-m", "token")  # pre-commit
    assert blocked.returncode != 0 and "a.txt:1:1" in blocked.stdout + blocked.stderr
    assert attempt("commit", "-q", "--no-verify", "-m", "token").returncode == 0
    pushed = attempt("push", "-q", "origin", "main")  # pre-push
    assert pushed.returncode != 0 and token not in pushed.stdout + pushed.stderr
