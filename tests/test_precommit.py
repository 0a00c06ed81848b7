"""The published hook, run by the real pre-commit program, in a real repository.

These prove the manifest (.pre-commit-hooks.yaml) and the shipped console script agree, and
that the hook is correct in every mode pre-commit runs it: ``git commit``,
``pre-commit run --all-files`` and ``--files`` (diff-only hooks pass vacuously there).
"""

from __future__ import annotations

import shlex
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
    assert hook["types"] == []  # binaries are scanned too,
    assert hook["types_or"] == ["file", "symlink"]  # and symbolic links, as git commits them
    assert hook.get("pass_filenames", True) is True
    python, *flags, code = shlex.split(hook["entry"])  # the environment's interpreter, no wrapper
    assert (python, flags) == ("python", ["-S", "-c"])
    assert "from copera_secretscan.quick import hook_main" in code
    script = Path(sys.executable).parent / "copera-secretscan-hook"  # still there for people
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


@pytest.mark.parametrize("name", ["--exit-zero", "--show-secrets", "-", "--format=json", "-q"])
def test_a_file_named_like_an_option_cannot_pass_a_leak(
    hooked_repo: Path, pre_commit_home: Path, name: str
) -> None:
    """pre-commit passes file names without ``--``: none may act as an option of the hook."""
    token = make_token("cp_pat_", 36, seed=601)
    (hooked_repo / name).write_text("x = 1\n")
    (hooked_repo / "leak.py").write_text(f'K="{token}"\n')
    git(hooked_repo, "add", "-A")

    result = git_commit(hooked_repo, pre_commit_home, "sneak")

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"'{name}' is a file here and also reads as" in output
    assert token not in output
    assert git(hooked_repo, "rev-list", "--count", "HEAD").strip() == "1"


NO_FILENAMES = """\
repos:
  - repo: {path}
    rev: {sha}
    hooks:
      - id: copera-secretscan
        pass_filenames: false
        args: {args}
"""


@pytest.mark.parametrize("args", ["[]", "[--quiet]", "[--format, json]"])
def test_the_hook_without_file_names_scans_the_index(
    repo: Path, hook_repo: tuple[str, str], pre_commit_home: Path, args: str
) -> None:
    path, sha = hook_repo
    install_hooks(repo, pre_commit_home, NO_FILENAMES.format(path=path, sha=sha, args=args))
    token = make_token("cp_key_", 40, seed=602)
    (repo / "settings.py").write_text(f"KEY = '{token}'\n")
    git(repo, "add", "settings.py")

    blocked = git_commit(repo, pre_commit_home, "add settings")
    (repo / "settings.py").write_text("KEY = None\n")
    git(repo, "add", "settings.py")
    clean = git_commit(repo, pre_commit_home, "settings without a key")

    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "settings.py" in blocked.stdout + blocked.stderr
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_dangling_symlinks_are_committed_as_their_link_text(
    hooked_repo: Path, pre_commit_home: Path
) -> None:
    """git stores a symbolic link as its target's text: that is what the hook scans."""
    token = make_token("cp_oat_", 40, seed=603)
    (hooked_repo / "dangling").symlink_to("build/output.txt")  # made by a build, not committed
    git(hooked_repo, "add", "dangling")
    passed = git_commit(hooked_repo, pre_commit_home, "link to a build output")
    (hooked_repo / "leaky").symlink_to(f"/home/me/{token}")
    git(hooked_repo, "add", "leaky")
    blocked = git_commit(hooked_repo, pre_commit_home, "link whose text is a token")

    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert "leaky:1:" in blocked.stdout + blocked.stderr


def test_the_hook_starts_without_a_console_script_wrapper(
    hooked_repo: Path, pre_commit_home: Path
) -> None:
    """pip's generated wrapper imports ``re`` before the hook's first line (issue 14): the
    manifest runs the environment's interpreter on the lean check instead. Run by the real
    pre-commit in its own environment, a clean file is checked without ``re``, and a harmless
    ``cp_`` without ``click`` or ``dataclasses``, and neither loads ``site`` (the entry finds
    the environment's site-packages itself); a package of the same name in the repository
    being committed is never imported."""
    (hooked_repo / "notes.txt").write_text("tcp_keepalive = 1\nnothing secret here\n")
    (hooked_repo / "copera_secretscan").mkdir()
    (hooked_repo / "copera_secretscan" / "__init__.py").write_text("raise SystemExit(3)\n")
    git(hooked_repo, "add", "notes.txt")
    env_home = {"PYTHONPROFILEIMPORTTIME": "1"}
    for name in ("README.md", "notes.txt"):  # a clean file, and one with a harmless cp_
        run = pre_commit(
            hooked_repo, pre_commit_home, "run", "--verbose", "--files", name, extra=env_home
        )
        assert run.returncode == 0, run.stdout + run.stderr
        order = [line.rsplit("|", 1)[-1].strip() for line in run.stdout.splitlines()]
        imported = set(order)
        assert "copera_secretscan.quick" in imported, run.stdout  # the hook's own imports
        assert not imported & {"click", "dataclasses", "site"}, name
        # What the interpreter imports before our first module is not ours to spare (Python
        # 3.9 with an editable install loads `re` at start-up); everything after it is.
        ours = order[order.index("copera_secretscan") :]
        assert name != "README.md" or "re" not in ours, ours
