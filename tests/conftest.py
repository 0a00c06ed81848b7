"""Shared fixtures: isolated git repositories and generated tokens.

Every git call in tests runs with a throwaway HOME and no system config, so the developer's
aliases, hooks, templates and global excludes cannot change what a test sees (the habit of
pre-commit's own tests/conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.tokens import make_token

REAL_PRE_COMMIT = "real_pre_commit"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{REAL_PRE_COMMIT}: runs the real pre-commit (CI reruns it on the oldest)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs the real pre-commit, so `.ci/run` can select them with
    `-m real_pre_commit` for the manifest's minimum_pre_commit_version without a list to
    keep up to date: they are exactly the tests that share pre-commit's cache directory."""
    for item in items:
        if "pre_commit_home" in getattr(item, "fixturenames", ()):
            item.add_marker(REAL_PRE_COMMIT)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
    monkeypatch.delenv("NO_COLOR", raising=False)
    for var in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "PRE_COMMIT_FROM_REF",
        "PRE_COMMIT_TO_REF",
        "SKIP",
    ):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path | str, *args: str, check: bool = True) -> str:
    """Run git in ``cwd`` and return its stdout as text."""
    proc = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=check,
        capture_output=True,
        text=True,
    )
    return proc.stdout


def commit_all(repo: Path, message: str = "commit") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh git repository as the working directory."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    monkeypatch.chdir(path)
    yield path


@pytest.fixture
def token() -> str:
    return make_token("cp_pat_", 32, seed=1)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PRE_COMMIT_HOME for the whole session, so our hook is installed into a venv once."""
    return Path(os.environ.get("COPERA_TEST_PRE_COMMIT_HOME") or tmp_path_factory.mktemp("pch"))


CHECKOUT = Path(__file__).resolve().parents[1]
SNAPSHOT_PATHS = ("pyproject.toml", ".pre-commit-hooks.yaml", "README.md", "copera_secretscan")


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """This checkout's working tree committed into a throwaway repository: (path, sha).

    pre-commit installs hooks from a git revision; snapshotting the working tree (what
    ``pre-commit try-repo`` does internally) tests the code and the manifest as they are now,
    while a session-wide path keeps pre-commit's environment cache warm across tests.
    """
    import shutil

    snapshot = tmp_path_factory.mktemp("hook-repo")
    for name in SNAPSHOT_PATHS:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, snapshot / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, snapshot / name)
    git(snapshot, "init", "-q")
    sha = commit_all(snapshot, "snapshot")
    return str(snapshot), sha


def pre_commit(
    cwd: Path, home: Path, *args: str, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real pre-commit program with a shared cache directory (and ``extra``
    environment, which the hooks inherit); the hooks' output comes on its stdout."""
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", **(extra or {}))
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def python_probe(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` in ``cwd``, with git looking for no repository above ``cwd``'s
    parent (a temporary directory must not turn out to sit inside one)."""
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(cwd.parent)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )


def git_hooked(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git with the hooks pre-commit installed running for real (sharing the env cache)."""
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)


def install_hooks(repo: Path, home: Path, config: str) -> None:
    """Commit ``config`` as .pre-commit-config.yaml and ``pre-commit install`` it."""
    (repo / ".pre-commit-config.yaml").write_text(config)
    commit_all(repo, "adopt copera-secretscan")
    result = pre_commit(repo, home, "install")
    assert result.returncode == 0, result.stdout + result.stderr


def cli_runner() -> Any:
    """A CliRunner with standard error kept apart from standard output.

    click 8.2 always keeps them apart; 8.1, the last click for Python 3.9, must be asked to.
    """
    from click.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()
