"""``scan --staged`` reads what the next commit records (the index), not the working tree, and the
lean entry point answers a clean index the same way the full CLI would."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import pytest

from copera_secretscan import quick
from copera_secretscan.cli.main import main
from copera_secretscan.engine.rules import Ruleset
from tests.conftest import commit_all, git
from tests.tokens import make_token

BIN = Path(sys.executable).parent


def fast_eligible(args: list[str]) -> bool:
    """Whether the lean check may answer ``copera-secretscan ARGS`` itself."""
    return args[:1] == ["scan"] and quick.plan(args[1:], staged_only=True) is not None


def staged(capsys: pytest.CaptureFixture[str], *extra: str) -> Tuple[int, str]:
    code = main(["scan", "--staged", *extra])
    return code, capsys.readouterr().out


def test_partially_staged_token_is_found_though_the_disk_is_clean(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "app.py").write_text(f"DEBUG = True\nKEY = '{token}'\n")
    git(repo, "add", "app.py")
    (repo / "app.py").write_text("DEBUG = True\nKEY = os.environ['KEY']\n")  # `git add -p` shape

    code, out = staged(capsys)

    assert code == 1
    assert "app.py:2:8" in out and token not in out


def test_token_only_on_disk_is_not_what_gets_committed(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "app.py").write_text("DEBUG = True\n")
    git(repo, "add", "app.py")
    (repo / "app.py").write_text(f"DEBUG = True\nKEY = '{token}'\n")

    assert staged(capsys) == (0, "No Copera tokens found (1 file scanned).\n")


def test_deleted_files_are_skipped_and_renames_scan_the_new_path(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "gone.py").write_text(f"K = '{token}'\n")
    (repo / "moved.py").write_text(f"K = '{token}'\n")
    commit_all(repo, "start")
    git(repo, "rm", "-q", "gone.py")
    git(repo, "mv", "moved.py", "renamed.py")

    code, out = staged(capsys)

    assert code == 1
    assert "renamed.py:1:6" in out and "gone.py" not in out and "moved.py" not in out


def test_first_commit_without_head(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = make_token("cp_oat_", 24, seed=3)
    (repo / "mcp.json").write_text(f'{{"token": "{token}"}}\n')
    git(repo, "add", "mcp.json")

    code, out = staged(capsys)

    assert code == 1 and "mcp.json:1:12" in out


def test_conflict_resolution_during_a_merge(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "conf.txt").write_text("base\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "conf.txt").write_text("other\n")
    commit_all(repo, "other")
    git(repo, "checkout", "-q", "main")
    (repo / "conf.txt").write_text("main\n")
    commit_all(repo, "main")
    git(repo, "merge", "other", check=False)  # conflicts
    (repo / "conf.txt").write_text(f"resolved {token}\n")
    git(repo, "add", "conf.txt")

    code, out = staged(capsys)

    assert code == 1 and "conf.txt:1:10" in out


def test_linked_worktree_and_subdirectory_paths_are_from_the_working_directory(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")
    linked = repo.parent / "linked"
    git(repo, "worktree", "add", "-q", str(linked))
    (linked / "src").mkdir()
    (linked / "src" / "k.py").write_text(f"K = '{token}'\n")
    git(linked, "add", "src/k.py")
    monkeypatch.chdir(linked / "src")

    code, out = staged(capsys)

    assert code == 1
    assert "\nk.py:1:6" in "\n" + out  # relative to where the user stands, like files on disk


def test_submodule_gitlinks_are_skipped(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    library = tmp_path / "library"
    library.mkdir()
    git(library, "init", "-q")
    (library / "lib.py").write_text("x = 1\n")
    commit_all(library, "lib")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "lib")

    assert staged(capsys) == (0, "No Copera tokens found (1 file scanned).\n")  # .gitmodules


def test_git_index_file_is_the_index_being_committed(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo, "initial")
    (repo / "a.py").write_text(f"x = '{token}'\n")
    env = dict(os.environ, GIT_INDEX_FILE=str(repo / ".git" / "other-index"))
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "add", "a.py"], cwd=repo, env=env, check=True)

    assert staged(capsys)[0] == 0  # .git/index has nothing staged
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/other-index")  # git passes it relative
    assert staged(capsys)[0] == 1


def plain_hook(repo: Path) -> None:
    """docs/git-hooks.md's one-line hook, without the pre-commit framework."""
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f'#!/bin/sh\nexec "{BIN / "copera-secretscan"}" scan --staged --quiet\n')
    hook.chmod(0o755)


@pytest.mark.parametrize("how", [["-a"], ["--", "a.py"]])
def test_plain_hook_blocks_commit_all_and_commit_file(repo: Path, token: str, how: list) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo, "initial")
    plain_hook(repo)
    (repo / "a.py").write_text(f"x = '{token}'\n")  # modified, never `git add`ed

    result = subprocess.run(
        ["git", "commit", "-q", "-m", "change", *how], cwd=repo, capture_output=True, text=True
    )

    output = result.stdout + result.stderr  # git sends a hook's stdout to stderr
    assert result.returncode == 1, output
    assert "a.py:1:6" in output and token not in output
    (repo / "a.py").write_text("x = 2\n")
    clean = subprocess.run(["git", "commit", "-q", "-m", "ok", *how], cwd=repo, capture_output=True)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, b"", b"")


def test_lean_entry_says_what_the_cli_says(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(10):
        (repo / f"f{n}.txt").write_text(f"line {n}\ncp_pat_your_token_here\n" * 50)
    git(repo, "add", ".")

    # A placeholder is no token: the engine dismisses it in the lean check (issue 14), which
    # then says what the full CLI says about the same index.
    assert quick.staged_clean_count() == 10
    assert quick.main(["scan", "--staged"]) == 0
    full = capsys.readouterr().out
    assert full == staged(capsys)[1]
    (repo / "f0.txt").write_bytes(b"\xef\xbb\xbfcp_pat_your_token_here\n")
    git(repo, "add", ".")
    assert quick.staged_clean_count() is None  # after a BOM: the full scanner decides
    assert quick.main(["scan", "--staged"]) == 0
    assert capsys.readouterr().out == full
    for n in range(10):
        (repo / f"f{n}.txt").write_text(f"line {n}\n")
    git(repo, "add", ".")
    assert quick.staged_clean_count() == 10
    assert quick.main(["scan", "--staged"]) == 0
    assert capsys.readouterr().out == full == staged(capsys)[1]
    assert quick.main(["scan", "--staged", "-q"]) == 0 and capsys.readouterr().out == ""


def test_lean_entry_hands_tokens_and_configs_to_the_full_scanner(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "a.py").write_text(f"x = '{token}'\n")
    git(repo, "add", "a.py")
    assert quick.main(["scan", "--staged"]) == 1
    assert "a.py:1:6" in capsys.readouterr().out
    (repo / "a.py").write_text("x = 1\n")
    git(repo, "add", "a.py")
    (repo / ".copera-secretscan.toml").write_text("")
    assert not fast_eligible(["scan", "--staged"])
    assert not fast_eligible(["scan", "--staged", "--format", "json"])


def test_lean_entry_imports_no_click(repo: Path) -> None:
    (repo / "a.txt").write_text("hello\n")
    git(repo, "add", "a.txt")
    code = (
        "import sys; from copera_secretscan.quick import main; code = main(['scan', '--staged']);"
        "heavy = ('click', 'regex', 'pathspec', 'dataclasses', 'copera_secretscan.cli.main');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out == "No Copera tokens found (1 file scanned).\n[]\n"


def test_lean_anchor_is_the_ruleset_anchor() -> None:
    assert set(Ruleset().anchors()) == {quick.ANCHOR}
    assert quick.stream_clean(io.BytesIO(b"x" + quick.ANCHOR).read) is False  # that anchor


def test_utf16_staged_file_goes_to_the_full_scanner(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "w.txt").write_bytes(f"key={token}\n".encode("utf-16"))
    git(repo, "add", "w.txt")

    assert quick.staged_clean_count() is None
    assert quick.main(["scan", "--staged"]) == 1
    assert "w.txt:1:5" in capsys.readouterr().out


def test_lean_entry_strips_what_git_py_strips(monkeypatch: pytest.MonkeyPatch) -> None:
    from copera_secretscan.sources import git as gitmod
    from copera_secretscan.sources import gitenv

    assert gitmod.git_env is gitenv.git_env  # one isolation rule for every git we start
    assert quick.run_git is gitenv.run_git and quick.start_git is gitenv.start_git
    monkeypatch.setenv("GIT_DIR", "/elsewhere/.git")
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/index.lock")
    env = gitenv.git_env(keep_index=True)
    assert "GIT_DIR" not in env
    assert env["GIT_INDEX_FILE"] == os.path.abspath(".git/index.lock")


ACME = 'rules = [{ id = "acme", prefix = "acme_live_" }]\n'


@pytest.mark.parametrize(
    ("name", "text"),
    [(".copera-secretscan.toml", ACME), ("pyproject.toml", f'[tool."copera-secretscan"]\n{ACME}')],
)
def test_lean_entry_reads_the_root_config_from_a_subdirectory(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
) -> None:
    """The full CLI reads the config at the root; the lean path must not pass its tokens."""
    (repo / name).write_text(text)
    (repo / "src").mkdir()
    (repo / "src" / "a.env").write_text("ACME=acme_live_Xq7Lp2Rt9Vw4Zk8Mn3Bj\n")
    git(repo, "add", ".")
    monkeypatch.chdir(repo / "src")
    assert not fast_eligible(["scan", "--staged"])
    assert quick.main(["scan", "--staged"]) == 1
    assert "acme" in capsys.readouterr().out


def test_lean_entry_interrupted_while_handing_over_is_one_line_and_130(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    def interrupted(argv: list, prog: str, ready: object = None) -> int:  # quick passes its name
        raise KeyboardInterrupt

    (repo / "a.py").write_text(f"x = '{token}'\n")
    git(repo, "add", "a.py")
    monkeypatch.setattr("copera_secretscan.cli.main.main", interrupted)
    assert quick.main(["scan", "--staged"]) == 130
    assert capsys.readouterr() == ("", "copera-secretscan: interrupted\n")
