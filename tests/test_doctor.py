"""``doctor``: token hygiene, each problem class in a real repository, ``--fix`` healing the
safe ones (keeping the ``.gitignore``'s content, line endings and mode), and the hook id run by
the real pre-commit."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Tuple

import pytest

from copera_secretscan import doctor
from copera_secretscan.cli.main import main
from tests.conftest import commit_all, git, git_hooked, install_hooks
from tests.tokens import make_token

TOKEN = make_token("cp_pat_", 32, seed=13)
OAT = make_token("cp_oat_", 32, seed=13)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, str, str]:
    """The CLI in-process: (exit code, stdout, stderr); no whole token may reach either."""
    code = main(["doctor", *args])
    out, err = capsys.readouterr()
    for token in (TOKEN, OAT):
        assert token not in out + err
    return code, out, err


def report(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, Any]:
    code, out, _ = run(capsys, "--format", "json", *args)
    return code, json.loads(out)


def kinds(doc: Any, severity: str = doctor.PROBLEM) -> dict:
    return {i["path"]: i["kind"] for i in doc["issues"] if i["severity"] == severity}


@pytest.fixture
def committed(repo: Path) -> Path:
    (repo / "README.md").write_text("hello\n")
    commit_all(repo)
    return repo


def test_untracked_token_files_are_problems_and_fix_ignores_them_keeping_the_file(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = committed
    original = b"node_modules/\r\n*.log"  # CRLF endings, no final newline
    (repo / ".gitignore").write_bytes(original)
    os.chmod(repo / ".gitignore", 0o640)
    commit_all(repo)
    (repo / ".env").write_text("DEBUG=1\n")  # no token: still where tokens go
    (repo / ".copera.local.toml").write_text(f'token = "{TOKEN}"\n')
    (repo / ".mcp.json").write_text("{}\n")
    (repo / ".cursor").mkdir()
    (repo / ".cursor" / "mcp.json").write_text(f'{{"auth": "Bearer {OAT}"}}\n')
    (repo / "claude_desktop_config.json").write_text("{}\n")
    (repo / "app").mkdir()
    (repo / "app" / ".env.local").write_text("X=1\n")
    (repo / ".env.example").write_text("COPERA_TOKEN=cp_pat_your_token_here\n")
    (repo / "notes.txt").write_text("nothing to see\n")

    code, doc = report(capsys, "--no-home")
    assert code == 1
    found = kinds(doc)
    names = [".env", ".copera.local.toml", ".mcp.json", ".cursor/mcp.json"]
    names += ["claude_desktop_config.json", "app/.env.local"]
    assert found == dict.fromkeys(names, "untracked-token-file")
    held = next(i for i in doc["issues"] if i["path"] == ".cursor/mcp.json")
    assert "cp_oat_" in held["message"] and "holds a Copera token" in held["message"]
    assert all(i["fixable"] for i in doc["issues"] if i["severity"] == doctor.PROBLEM)

    code, out, _ = run(capsys, "--no-home", "--fix")
    assert code == 0, out
    assert "fixed: .gitignore: added /.env" in out
    data = (repo / ".gitignore").read_bytes()
    assert data.startswith(original + b"\r\n")
    added = data[len(original) + 2 :].split(b"\r\n")
    assert added[-1] == b"" and b"\n" not in data.replace(b"\r\n", b"")
    assert set(added[:-1]) == {b"/.env", b"/.copera.local.toml", b"/.mcp.json"} | {
        b"/.cursor/mcp.json",
        b"/claude_desktop_config.json",
        b"/app/.env.local",
    }
    assert stat.S_IMODE(os.stat(repo / ".gitignore").st_mode) == 0o640
    assert run(capsys, "--no-home")[0] == 0
    untracked = git(repo, "ls-files", "--others", "--exclude-standard").split()
    assert sorted(untracked) == [".env.example", "notes.txt"]


def test_an_untracked_file_holding_a_token_is_a_problem_redacted(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (committed / "notes.txt").write_text(f"x\ncurl -H 'Authorization: Bearer {TOKEN}'\n")
    (committed / ".env.sample").write_text(f"COPERA_TOKEN={TOKEN}\n")
    code, out, _ = run(capsys, "--no-home")
    assert code == 1
    assert f"notes.txt: holds a Copera token ({TOKEN[:11]}" in out
    assert "at line 2), and `git add -A` would commit it" in out
    assert ".env.sample: holds a Copera token" in out
    assert "fix: replace the token with a placeholder\n" in out  # not --fix's to decide

    code, out, _ = run(capsys, "--no-home", "--fix")
    assert code == 1  # the placeholder file still holds a real token
    assert (committed / ".gitignore").read_text() == "/notes.txt\n"
    assert "notes.txt" not in out.split("fixed:")[-1].split("\n", 1)[1]


def test_a_tracked_token_file_says_rotate_then_rm_cached_then_ignore(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (committed / "deploy").mkdir()
    (committed / "deploy" / ".env").write_text("X=1\n")
    (committed / ".env.example").write_text(f"T={TOKEN}\n")  # tracked placeholder, real token
    commit_all(committed)
    code, doc = report(capsys, "--no-home", "--fix")
    assert code == 1 and doc["fixed"] == []  # --fix never touches the index or a tracked file
    assert kinds(doc) == {"deploy/.env": "tracked-token-file", ".env.example": "tracked-token"}
    fix = next(i["fix"] for i in doc["issues"] if i["path"] == "deploy/.env")
    assert fix == "rotate its tokens, then `git rm --cached -- deploy/.env`, then ignore it"
    assert (committed / "deploy" / ".env").read_text() == "X=1\n"

    git(committed, "rm", "-q", "--cached", "--", "deploy/.env")
    (committed / ".env.example").write_text("T=cp_pat_your_token_here\n")
    assert run(capsys, "--no-home", "--fix")[0] == 0
    assert (committed / ".gitignore").read_text() == "/deploy/.env\n"
    assert run(capsys, "--no-home")[0] == 0


def test_a_committed_shared_config_with_a_token_key(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (committed / ".copera.toml").write_text('[defaults]\nworkspace = "acme"\n')
    commit_all(committed)
    assert run(capsys, "--no-home")[0] == 0  # shared defaults are what it is for
    (committed / ".copera.toml").write_text('[profiles.ci]\ntoken = "ask-the-vault"\n')
    commit_all(committed)
    code, doc = report(capsys, "--no-home")
    assert code == 1
    assert kinds(doc) == {".copera.toml": "shared-config-token"}


def home_config(mode: int) -> Path:
    path = Path(os.environ["HOME"]) / ".copera.toml"
    path.write_text(f'[profiles.default]\ntoken = "{TOKEN}"\n')
    os.chmod(path, mode)
    return path


@pytest.mark.skipif(os.name == "nt", reason="modes mean nothing on Windows")
def test_a_home_config_readable_by_others_is_fixed_with_chmod_600(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = home_config(0o644)
    assert run(capsys, "--no-home")[0] == 0
    code, out, _ = run(capsys)
    assert code == 1
    assert f"{path}: holds every profile's token and is readable by others (mode 0644)" in out
    assert f"fix: chmod 600 {path} (--fix does this)" in out
    code, out, _ = run(capsys, "--fix")
    assert code == 0 and f"fixed: {path}: chmod 600" in out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text().startswith("[profiles.default]")


def test_a_home_config_inside_a_dotfiles_repository(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home_config(0o600)
    assert run(capsys)[0] == 0
    git(os.environ["HOME"], "init", "-q")
    code, doc = report(capsys)
    assert code == 1
    assert list(kinds(doc).values()) == ["home-config-in-repo"]
    assert run(capsys, "--no-home")[0] == 0


def test_a_home_config_linked_into_a_dotfiles_repository(
    committed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    git(dotfiles, "init", "-q")
    (dotfiles / "copera.toml").write_text("[profiles]\n")
    os.chmod(dotfiles / "copera.toml", 0o600)
    (Path(os.environ["HOME"]) / ".copera.toml").symlink_to(dotfiles / "copera.toml")
    code, doc = report(capsys)
    assert code == 1
    assert doc["issues"][0]["message"] == f"sits inside the git work tree {dotfiles}"


def test_protection_is_advice_never_a_failure(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = report(capsys, "--no-home")
    assert code == 0 and doc["healthy"]
    assert kinds(doc, doctor.ADVICE) == {
        ".pre-commit-config.yaml": "hook-not-configured",
        None: "no-ci",
    }
    (committed / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: x\n    hooks:\n      - id: copera-secretscan\n"
        "      - id: 'copera-secretscan-push'\n"
    )
    workflows = committed / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "scan.yml").write_text("steps:\n  - run: copera-secretscan scan --ci\n")
    code, doc = report(capsys, "--no-home")
    advice = [i["fix"] for i in doc["issues"]]
    assert advice == [
        "pre-commit install --hook-type pre-commit",
        "pre-commit install --hook-type pre-push",
    ]
    # core.hooksPath is where git runs hooks from: installed there counts
    hooks = committed / "my-hooks"
    hooks.mkdir()
    for kind in ("pre-commit", "pre-push"):
        (hooks / kind).write_text("#!/bin/sh\n# File generated by pre-commit\n")
    git(committed, "config", "core.hooksPath", "my-hooks")
    code, doc = report(capsys, "--no-home", "--exclude", "my-hooks/")
    assert (code, doc["issues"]) == (0, [])
    code, out, _ = run(capsys, "--no-home")
    assert out == "Token hygiene: healthy.\n"


def test_a_linked_worktree_finds_the_hooks_of_its_common_directory(
    committed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (committed / ".pre-commit-config.yaml").write_text("      - id: copera-secretscan\n")
    commit_all(committed)
    script = committed / ".git" / "hooks" / "pre-commit"
    script.write_text("#!/bin/sh\n# File generated by pre-commit\n")
    linked = tmp_path / "linked"
    git(committed, "worktree", "add", "-q", str(linked))
    (linked / ".env").write_text("X=1\n")
    code, doc = report(capsys, "--no-home", str(linked))
    assert code == 1
    assert kinds(doc) == {str(linked / ".env"): "untracked-token-file"}
    assert [i["kind"] for i in doc["issues"]][1:] == ["no-ci"]  # the hook counts as installed
    assert run(capsys, "--no-home", "--fix", str(linked))[0] == 0
    assert (linked / ".gitignore").read_text() == "/.env\n"


def test_odd_names_are_escaped_and_unwritable_ones_not_fixed(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a b", "new\nline", os.fsdecode(b"caf\xe9"), "star*"):
        (committed / name).mkdir()
        (committed / name / ".env").write_text("X=1\n")
    code, out, _ = run(capsys, "--no-home")
    assert code == 1
    for shown in ("a b/.env", "new\\nline/.env", "caf\\xe9/.env", "star*/.env"):
        assert f"problem {shown}: a token file" in out
    assert "fix: rename it, then ignore it\n" in out
    code, out, _ = run(capsys, "--no-home", "--fix")
    assert code == 1  # the two names no .gitignore line can hold are left to a person
    assert (committed / ".gitignore").read_text() == "/a b/.env\n/star\\*/.env\n"
    assert [line[:8] for line in out.splitlines()].count("problem ") == 2


def test_fix_refuses_a_symlinked_or_read_only_gitignore(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (committed / ".env").write_text("X=1\n")
    elsewhere = committed.parent / "shared-ignore"
    elsewhere.write_text("*.o\n")
    (committed / ".gitignore").symlink_to(elsewhere)
    code, out, err = run(capsys, "--no-home", "--fix")
    assert (code, out) == (2, "")
    assert err == (
        "copera-secretscan: error: .gitignore: a symbolic link: not written; add to it: /.env\n"
    )
    assert elsewhere.read_text() == "*.o\n"
    (committed / ".gitignore").unlink()
    (committed / ".gitignore").write_text("*.o\n")
    os.chmod(committed / ".gitignore", 0o444)
    code, out, err = run(capsys, "--no-home", "--fix")
    assert code == 2 and err.count("\n") == 1 and "read-only" in err
    assert (committed / ".gitignore").read_text() == "*.o\n"


def test_an_empty_repository_a_bare_one_and_no_repository(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / ".env").write_text("X=1\n")  # no commit yet
    assert run(capsys, "--no-home")[0] == 1
    assert run(capsys, "--no-home", "--fix")[0] == 0
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    code, out, _ = run(capsys, "--no-home", str(bare))
    assert code == 2
    assert f"not checked: {bare}: a bare repository: repository checks skipped" in out
    plain = tmp_path / "plain"
    plain.mkdir()
    code, out, _ = run(capsys, "--no-home", str(plain))
    assert code == 2 and "not in a git work tree: repository checks skipped" in out
    if os.name != "nt":
        home_config(0o640)
        code, out, _ = run(capsys, str(plain))
        assert code == 1 and "readable by others" in out  # still checked outside git


def test_a_missing_path_is_one_line_and_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "no-such-dir")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "no such file or directory" in err


def test_text_is_coloured_only_when_asked(
    committed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (committed / ".env").write_text("X=1\n")
    assert "\x1b[" not in run(capsys, "--no-home")[1]
    assert "\x1b[" in run(capsys, "--no-home", "--color")[1]
    out_file = committed.parent / "doctor.json"
    code, out, _ = run(capsys, "--no-home", "-f", "json", "-o", str(out_file))
    assert (code, out) == (1, "")
    assert json.loads(out_file.read_text())["issues"][0]["kind"] == "untracked-token-file"


def test_the_doctor_hook_through_the_real_pre_commit(
    committed: Path, hook_repo: tuple, pre_commit_home: Path
) -> None:
    path, sha = hook_repo
    config = f"repos:\n  - repo: {path}\n    rev: {sha}\n    hooks:\n"
    install_hooks(committed, pre_commit_home, config + "      - id: copera-secretscan-doctor\n")
    (committed / ".env").write_text(f"COPERA_TOKEN={TOKEN}\n")
    (committed / "app.py").write_text("print('hi')\n")
    git(committed, "add", "app.py")
    blocked = git_hooked(committed, pre_commit_home, "commit", "-q", "-m", "app")
    assert blocked.returncode != 0
    said = blocked.stdout + blocked.stderr
    assert ".env: a token file `git add -A` would commit" in said and TOKEN not in said
    (committed / ".gitignore").write_text("/.env\n")
    git(committed, "add", ".gitignore")
    passed = git_hooked(committed, pre_commit_home, "commit", "-q", "-m", "app")
    assert passed.returncode == 0, passed.stdout + passed.stderr
