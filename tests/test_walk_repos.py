"""Walks see what git sees at repository boundaries, and fail closed where git cannot answer.

Three classes of miss: a git that cannot answer inside a work tree (missing, failing, refusing a
repository of dubious ownership), ``.git`` debris taken for a nested repository, and ignore files
that git itself does not obey (a ``.gitignore`` that is a symbolic link). Every expectation is
checked against git on a real repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Set, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan.cli.main import main
from copera_secretscan.config import settings as config
from copera_secretscan.models import Problem
from copera_secretscan.sources import git, gitenv
from copera_secretscan.sources.files import FileTarget, iter_targets
from tests.conftest import git as run_git
from tests.tokens import make_token

REAL_GIT = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()


def write(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def walk_items(*paths: str) -> Tuple[List[str], List[Problem]]:
    files: List[str] = []
    problems: List[Problem] = []
    for item in iter_targets(list(paths) or ["."]):
        if isinstance(item, FileTarget):
            files.append(item.display)
        else:
            problems.append(item)
    return files, problems


def walked(*paths: str) -> Set[str]:
    files, problems = walk_items(*paths)
    assert problems == []
    assert len(files) == len(set(files))
    return set(files)


def git_sees(repo: Path) -> Set[str]:
    """Tracked plus untracked-not-ignored files (symbolic links too: git stores a link, and
    the walk scans it as its text), without git's untracked nested repositories (``sub/``)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
    paths = {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
    return {p for p in paths if not p.endswith("/")}


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, Dict[str, Any]]:
    code = main(["scan", *args, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else {}


def ignored_but_tracked(repo: Path, token: str) -> None:
    """The shape of the leak: ``*.env`` ignored, ``prod.env`` committed anyway with ``add -f``."""
    write(repo, {".gitignore": "*.env\n", "prod.env": f"KEY={token}\n", "app.py": "x = 1\n"})
    run_git(repo, "add", "-f", "prod.env")
    run_git(repo, "add", ".")


def fake_git(tmp_path: Path, script: str) -> str:
    """A ``git`` on PATH that runs ``script`` (sh), with the real git as ``$REAL``."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / "git"
    path.write_text(f"#!/bin/sh\nREAL={REAL_GIT}\n{script}\n")
    path.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


# --- 1. a git that cannot answer inside a work tree -----------------------------------------


def test_a_tracked_ignored_file_is_found_when_git_answers(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    ignored_but_tracked(repo, token)
    code, report = scan_json(capsys, ".")
    assert (code, [f["path"] for f in report["findings"]], report["errors"]) == (
        1,
        ["prod.env"],
        [],
    )


def test_no_git_on_path_inside_a_work_tree_is_an_incomplete_scan(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ignored_but_tracked(repo, token)
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, report = scan_json(capsys, ".")
    assert code == 2
    [error] = report["errors"]
    assert error["path"] == "."
    assert "git is not installed or not on PATH" in error["message"]
    assert "--no-ignore" in error["message"]


def test_a_failing_git_inside_a_work_tree_is_an_incomplete_scan(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ignored_but_tracked(repo, token)
    monkeypatch.setenv("PATH", fake_git(tmp_path, "echo 'fatal: wrapper broke' >&2; exit 1"))
    code, report = scan_json(capsys, ".")
    assert code == 2
    assert [e["message"] for e in report["errors"]] == [
        "ignored files that git tracks may be missed: git rev-parse failed: wrapper broke; "
        "to scan without git: --no-ignore"
    ]


def test_a_git_that_exits_zero_but_names_no_work_tree_is_not_believed(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ignored_but_tracked(repo, token)
    monkeypatch.setenv("PATH", fake_git(tmp_path, "exit 0"))
    code, report = scan_json(capsys, ".")
    assert code == 2
    [error] = report["errors"]
    assert "git rev-parse named no work tree" in error["message"]


def test_dubious_ownership_is_an_incomplete_scan_with_gits_own_remedy(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI containers check out as one user and scan as another: git refuses the repository."""
    ignored_but_tracked(repo, token)
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")  # git's own switch for this

    code, report = scan_json(capsys, ".")

    assert code == 2
    [error] = report["errors"]
    assert "detected dubious ownership" in error["message"]
    assert f"git config --global --add safe.directory {repo}" in error["message"]
    assert "--no-ignore" in error["message"]
    assert scan_json(capsys, "--no-ignore", ".")[0] == 1  # the other remedy needs no git
    run_git(repo, "config", "--global", "--add", "safe.directory", str(repo))
    code, report = scan_json(capsys, ".")  # following the advice makes the scan complete
    assert (code, report["errors"]) == (1, [])


def test_when_git_cannot_answer_everything_else_is_still_scanned_with_gitignore_rules(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_token("cp_key_", 32, seed=91)
    ignored_but_tracked(repo, token)
    write(repo, {"src/app.py": f"k = '{other}'\n", "src/.gitignore": "*.log\n", "src/x.log": ""})
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")

    code, report = scan_json(capsys, ".")
    files, problems = walk_items(".")

    assert code == 1  # a token found, and the error still reported
    assert [f["path"] for f in report["findings"]] == ["src/app.py"]
    assert len(report["errors"]) == 1
    assert sorted(files) == [".gitignore", "app.py", "src/.gitignore", "src/app.py"]
    assert len(problems) == 1


def test_a_subdirectory_walk_keeps_the_gitignores_above_it_when_git_cannot_answer(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, {".gitignore": "*.log\n", "sub/a.log": "", "sub/b.txt": ""})
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    files, problems = walk_items("sub")
    assert files == ["sub/b.txt"]
    assert [p.path for p in problems] == ["sub"]


def test_config_lookup_stays_at_the_repository_when_git_cannot_answer(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "deep" / "er").mkdir(parents=True)
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    assert config.repository_root(str(repo / "deep" / "er")) == str(repo)
    with pytest.raises(git.NoAnswer):
        git.toplevel(str(repo / "deep"))


def test_a_config_exclude_still_applies_when_git_cannot_answer(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, {".copera-secretscan.toml": 'exclude = ["fixtures/"]\n'})
    write(repo, {"fixtures/sample.txt": f"{token}\n", "sub/clean.txt": ""})
    monkeypatch.chdir(repo / "sub")
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    code, report = scan_json(capsys, "..")
    assert (code, report["findings"]) == (2, [])  # the config was found at the repository


def test_when_git_fails_after_finding_the_work_tree_the_scan_is_incomplete(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``git config`` failing must not read as "no global ignore file"."""
    ignored_but_tracked(repo, token)
    script = 'if [ "$1" = config ]; then echo "fatal: config broke" >&2; exit 128; fi\n'
    monkeypatch.setenv("PATH", fake_git(tmp_path, script + 'exec "$REAL" "$@"'))
    code, report = scan_json(capsys, ".")
    assert code == 1  # git still lists what it tracks: prod.env is found
    [error] = report["errors"]
    assert "git config failed: config broke" in error["message"]


def test_a_work_tree_whose_repository_says_bare_is_an_incomplete_scan(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    """git refuses to work there ("must be run in a work tree"), yet the files are tracked."""
    ignored_but_tracked(repo, token)
    run_git(repo, "config", "core.bare", "true")
    code, report = scan_json(capsys, ".")
    assert code == 2
    assert "must be run in a work tree" in report["errors"][0]["message"]


def test_inside_a_git_directory_there_is_no_work_tree_to_ask_about(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".git" / "notes.txt").write_text("x\n")
    monkeypatch.chdir(repo / ".git")
    files, problems = walk_items(".")
    assert "notes.txt" in files and "HEAD" in files
    assert problems == []


def test_a_work_tree_elsewhere_is_not_believed_to_hold_the_walked_directory(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str, tmp_path: Path
) -> None:
    ignored_but_tracked(repo, token)
    run_git(repo, "config", "core.worktree", str(tmp_path / "elsewhere"))
    code, report = scan_json(capsys, ".")
    assert code == 2
    assert "as the work tree of" in report["errors"][0]["message"]


def test_a_gitfile_leading_nowhere_with_no_repository_above_is_an_incomplete_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worktree copied without its repository (a container build context, a moved checkout):
    git cannot say what it tracks, so the directory is no plain one and the scan is incomplete."""
    for spelling in ("gitdir: /nonexistent\n", "garbage\n", "gitdir: \n"):
        copied = tmp_path / f"copied{len(spelling)}"
        write(copied, {".git": spelling, ".gitignore": "*.log\n", "a.log": "", "b.txt": ""})
        monkeypatch.chdir(copied)
        files, problems = walk_items(".")
        assert set(files) == {".gitignore", "b.txt"}
        [problem] = problems
        assert "git cannot use" in problem.message and "--no-ignore" in problem.message
        assert main(["scan", "."]) == 2
        assert main(["scan", "--no-ignore", "."]) == 0
        capsys.readouterr()


def test_an_empty_git_directory_with_no_repository_above_is_a_plain_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    write(plain, {".gitignore": "*.log\n", "a.log": "", "b.txt": ""})
    (plain / ".git").mkdir()  # git: "not a git repository (or any of the parent directories)"
    monkeypatch.chdir(plain)
    assert walked(".") == {".gitignore", "b.txt"}


def test_a_stray_gitfile_inside_a_repository_does_not_hide_the_repository(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    """git stops at a ``.git`` file naming no repository; from above, it is plain debris."""
    write(repo, {".gitignore": "*.env\n", "g/.gitignore": "*.env\n", "g/sub/prod.env": token})
    run_git(repo, "add", "-f", "g/sub/prod.env")
    for spelling in ("gitdir: /nonexistent\n", "junk\n", "gitdir: \n"):
        (repo / "g" / ".git").write_text(spelling)
        assert walked("g") == {"g/.gitignore", "g/sub/prod.env"}
        assert walked("g/sub") == {"g/sub/prod.env"}
        assert main(["scan", "g"]) == 1


# --- 2. nested .git debris is not a repository ----------------------------------------------

HEAD = "ref: refs/heads/main\n"


def gitdir_at(path: Path, head: str = HEAD, objects: bool = True, refs: bool = True) -> None:
    path.mkdir(parents=True)
    (path / "HEAD").write_text(head)
    if objects:
        (path / "objects").mkdir()
    if refs:
        (path / "refs").mkdir()


def valid_gitdir(outside: Path) -> Path:
    path = outside / "valid.git"
    if not path.exists():
        gitdir_at(path)
    return path


DEBRIS: Dict[str, Callable[[Path, Path, Path], None]] = {
    "empty dir": lambda d, repo, out: (d / ".git").mkdir(),
    "only HEAD": lambda d, repo, out: gitdir_at(d / ".git", objects=False, refs=False),
    "HEAD and refs": lambda d, repo, out: gitdir_at(d / ".git", objects=False),
    "HEAD and objects": lambda d, repo, out: gitdir_at(d / ".git", refs=False),
    "objects and refs, HEAD not a ref": lambda d, repo, out: gitdir_at(d / ".git", "main\n"),
    "garbage file": lambda d, repo, out: (d / ".git").write_text("garbage\n"),
    "empty file": lambda d, repo, out: (d / ".git").write_text(""),
    "gitfile to nowhere": lambda d, repo, out: (d / ".git").write_text("gitdir: /nonexistent\n"),
    "gitfile with no path": lambda d, repo, out: (d / ".git").write_text("gitdir: \r\n"),
    "gitfile to a plain dir": lambda d, repo, out: (d / ".git").write_text(f"gitdir: {out}\n"),
    "symlink to nowhere": lambda d, repo, out: (d / ".git").symlink_to(out / "missing"),
    "symlink to its own repository": lambda d, repo, out: (d / ".git").symlink_to(repo / ".git"),
    "valid git dir": lambda d, repo, out: gitdir_at(d / ".git"),
    "detached HEAD": lambda d, repo, out: gitdir_at(d / ".git", "0123456789" * 4 + "\n"),
    "gitfile to a valid git dir": lambda d, repo, out: (d / ".git").write_text(
        f"gitdir: {valid_gitdir(out)}\n"
    ),
    "relative gitfile": lambda d, repo, out: (d / ".git").write_text(
        f"gitdir: {os.path.relpath(valid_gitdir(out), d)}"
    ),
    "symlink to a valid git dir": lambda d, repo, out: (d / ".git").symlink_to(valid_gitdir(out)),
}
REPOSITORIES = {
    "valid git dir",
    "detached HEAD",
    "gitfile to a valid git dir",
    "relative gitfile",
    "symlink to a valid git dir",
}


@pytest.mark.parametrize("kind", sorted(DEBRIS))
def test_nested_git_debris_hides_nothing_that_git_lists(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    secret = make_token("cp_oat_", 32, seed=92)
    outside = tmp_path / "outside"
    outside.mkdir()
    write(repo, {"top.txt": "", "sub/inner/leak.txt": f"{secret}\n"})
    DEBRIS[kind](repo / "sub", repo, outside)

    assert walked(".") == git_sees(repo)
    nested = kind in REPOSITORIES
    assert ("sub/inner/leak.txt" in git_sees(repo)) is not nested  # the example means something
    if kind != "symlink to its own repository":  # a repository, but this one: not nested
        assert gitenv.holds_repository(str(repo / "sub" / ".git")) is nested
    code, _ = scan_json(capsys, ".")
    assert code == (0 if nested else 1)


def test_a_nested_repository_holding_tracked_files_is_walked_like_any_directory(
    repo: Path,
) -> None:
    """git asks the index before it looks for a nested repository: untracked files count too."""
    write(repo, {"sub/tracked.txt": "", "sub/deep/t.txt": ""})
    run_git(repo, "add", ".")
    run_git(repo / "sub", "init", "-q")
    write(repo, {"sub/untracked.txt": "", "sub/other/u.txt": "", "sub/.gitignore": "*.log\n"})
    write(repo, {"sub/x.log": ""})
    assert walked(".") == git_sees(repo)
    assert "sub/other/u.txt" in walked(".")


def test_git_debris_among_plain_directories_is_walked_and_real_repositories_as_git_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    write(plain, {"debris/f.txt": "", "real/a.txt": "", "real/b.secret": "", "stray/g.txt": ""})
    (plain / "debris" / ".git").mkdir()
    (plain / "stray" / ".git").write_text("gitdir: /nonexistent\n")
    run_git(plain / "real", "init", "-q")
    (plain / "real" / ".git" / "info" / "exclude").write_text("*.secret\n")
    monkeypatch.chdir(plain)
    assert walked(".") == {"debris/f.txt", "real/a.txt", "stray/g.txt"}


HEX = "0123456789abcdef" * 5


@pytest.mark.parametrize(
    ("head", "valid"),
    [
        ("ref: refs/heads/main\n", True),
        ("ref:refs/heads/main", True),
        ("ref:\t \r\nrefs/x", True),
        ("ref:\vrefs/x", False),  # \v is no space to git
        ("ref: heads/main\n", False),
        ("REF: refs/heads/main\n", False),
        (HEX[:40], True),
        (HEX[:40].upper() + "junk", True),
        (HEX[:39], False),
        (HEX[:20] + "\0" + HEX[:20], False),
        ("", False),
    ],
)
def test_head_spellings_agree_with_git(repo: Path, head: str, valid: bool) -> None:
    write(repo, {"sub/f.txt": ""})
    gitdir_at(repo / "sub" / ".git", head)
    assert gitenv.holds_repository(str(repo / "sub" / ".git")) is valid
    assert ("sub/f.txt" in git_sees(repo)) is not valid
    assert walked(".") == git_sees(repo)


def test_a_detached_head_needs_the_repositorys_own_object_id_length(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a SHA-256 repository git wants 64 hex digits: a 40-digit HEAD is debris there."""
    repo = tmp_path / "sha256"
    run_git(tmp_path, "init", "-q", "--object-format=sha256", "sha256")
    write(repo, {"h40/f.txt": "", "h64/f.txt": ""})
    gitdir_at(repo / "h40" / ".git", "1" * 40)
    gitdir_at(repo / "h64" / ".git", "1" * 64)
    monkeypatch.chdir(repo)
    assert walked(".") == git_sees(repo) == {"h40/f.txt"}


def test_a_head_link_counts_only_into_refs(repo: Path) -> None:
    write(repo, {"a/f.txt": "", "b/f.txt": ""})
    gitdir_at(repo / "a" / ".git")
    gitdir_at(repo / "b" / ".git")
    for name, target in (("a", "refs/heads/main"), ("b", "heads/main")):
        (repo / name / ".git" / "HEAD").unlink()
        (repo / name / ".git" / "HEAD").symlink_to(target)
    assert walked(".") == git_sees(repo) == {"b/f.txt"}


@pytest.mark.parametrize(
    "gitfile",
    [
        "gitdir: {valid}\r\n",
        "gitdir: {valid}\0junk",
        "gitdir: {valid}",
        "gitdir:  {valid}\n",  # two spaces: a relative path that starts with a space
        "gitdir:{valid}\n",
        "GITDIR: {valid}\n",
        "\ngitdir: {valid}\n",
    ],
)
def test_gitfile_spellings_agree_with_git(repo: Path, tmp_path: Path, gitfile: str) -> None:
    write(repo, {"sub/f.txt": ""})
    valid = valid_gitdir(tmp_path)
    (repo / "sub" / ".git").write_bytes(gitfile.format(valid=valid).encode())
    assert walked(".") == git_sees(repo)


def test_a_gitfile_too_large_for_git_is_not_a_repository(repo: Path, tmp_path: Path) -> None:
    write(repo, {"sub/f.txt": ""})
    text = f"gitdir: {valid_gitdir(tmp_path)}\n"
    (repo / "sub" / ".git").write_text(text + "\n" * (gitenv.GITFILE_MAX + 1 - len(text)))
    assert walked(".") == git_sees(repo) == {"sub/f.txt"}


def test_a_linked_worktree_common_dir_counts(repo: Path, tmp_path: Path) -> None:
    """A ``commondir`` file moves ``objects`` and ``refs`` out of the git directory."""
    write(repo, {"a/f.txt": "", "b/f.txt": ""})
    common = valid_gitdir(tmp_path)
    gitdir_at(repo / "a" / ".git", objects=False, refs=False)
    (repo / "a" / ".git" / "commondir").write_text(f"{common}\n")
    gitdir_at(repo / "b" / ".git", objects=False, refs=False)
    (repo / "b" / ".git" / "commondir").write_text(f"{tmp_path}/nowhere\n")
    assert walked(".") == git_sees(repo) == {"b/f.txt"}


def test_a_gitfile_git_cannot_read_counts_as_a_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git assumes a repository it cannot see into (dir.c); root reads anything, so fake it."""
    dot_git = tmp_path / ".git"
    dot_git.write_text("gitdir: /nonexistent\n")
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any) -> int:
        if os.fspath(path) == str(dot_git):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args)

    assert gitenv.holds_repository(str(dot_git)) is False
    monkeypatch.setattr(os, "open", refusing_open)
    assert gitenv.holds_repository(str(dot_git)) is True


def test_a_fifo_named_like_git_files_never_stalls_the_walk(repo: Path) -> None:
    write(repo, {"a/f.txt": "", "b/f.txt": "", "c/f.txt": ""})
    os.mkfifo(repo / "a" / ".git")
    gitdir_at(repo / "b" / ".git", head="", objects=True)
    (repo / "b" / ".git" / "HEAD").unlink()
    os.mkfifo(repo / "b" / ".git" / "HEAD")
    os.mkfifo(repo / "c" / ".gitignore")
    assert finishes(lambda: walked(".")) == {"a/f.txt", "b/f.txt", "c/f.txt"}


def finishes(work: Callable[[], Any], seconds: float = 20.0) -> Any:
    result: List[Any] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the walk hangs"
    return result[0]


DIRS = ["a", "b", "a/c", "b/d", "a/c/e"]
NAMES = ["f.txt", "g.env", "h.log", "build"]
LINES = ["*.env", "*.log", "!g.env", "c/", "b", "/a", "e/", "!*/", "d", "build", "*", "!f.txt"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    debris=st.dictionaries(st.sampled_from(DIRS), st.sampled_from(sorted(DEBRIS)), max_size=3),
    files=st.lists(
        st.tuples(st.sampled_from(["", *DIRS]), st.sampled_from(NAMES), st.booleans()), min_size=1
    ),
    ignores=st.dictionaries(
        st.sampled_from(["", *DIRS]), st.lists(st.sampled_from(LINES), max_size=3), max_size=3
    ),
)
def test_random_git_debris_agrees_with_git_ls_files(
    debris: Dict[str, str],
    files: List[Tuple[str, str, bool]],
    ignores: Dict[str, List[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Debris of every kind, anywhere, with tracked files and ignore rules: the walk lists
    exactly what ``git ls-files -co --exclude-standard`` lists."""
    with tempfile.TemporaryDirectory() as tmp:
        repo, outside = Path(tmp) / "repo", Path(tmp) / "outside"
        outside.mkdir()
        run_git(Path(tmp), "init", "-q", "repo")
        paths = {f"{where}/{name}".lstrip("/"): add for where, name, add in files}
        write(repo, dict.fromkeys(paths, "x\n"))
        write(
            repo, {f"{d}/.gitignore".lstrip("/"): "\n".join(v) + "\n" for d, v in ignores.items()}
        )
        tracked = [path for path, add in paths.items() if add]
        if tracked:  # committed before the debris appeared, ignored or not
            run_git(repo, "add", "-f", "--", *tracked)
        for where, kind in debris.items():
            (repo / where).mkdir(parents=True, exist_ok=True)
            DEBRIS[kind](repo / where, repo, outside)
        with monkeypatch.context() as patch:
            patch.chdir(repo)
            assert walked(".") == git_sees(repo)


# --- 3. ignore files git does not obey --------------------------------------------------------


def test_a_symlinked_gitignore_is_not_obeyed_like_git(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    rules = tmp_path / "rules"
    rules.write_text("*.env\n")
    write(repo, {"leak.env": f"{token}\n", "sub/deeper.env": f"{token}\n", "a.txt": ""})
    (repo / ".gitignore").symlink_to(rules)
    (repo / "sub" / ".gitignore").symlink_to(os.path.relpath(rules, repo / "sub"))

    assert walked(".") == git_sees(repo)
    assert "leak.env" in walked(".") and "sub/deeper.env" in walked(".")
    # the link above the walk is not obeyed either; the link itself is scanned as its text
    assert walked("sub") == {"sub/deeper.env", "sub/.gitignore"}
    code, report = scan_json(capsys, ".")
    assert code == 1
    assert sorted(f["path"] for f in report["findings"]) == ["leak.env", "sub/deeper.env"]


def test_info_exclude_and_the_global_excludes_file_are_followed_like_git(
    repo: Path, tmp_path: Path
) -> None:
    """git follows links to the user's own files (checked with git 2.39)."""
    (tmp_path / "exclude-rules").write_text("*.key\n")
    (tmp_path / "global-rules").write_text("*.bak\n")
    exclude = repo / ".git" / "info" / "exclude"
    exclude.unlink()
    exclude.symlink_to(tmp_path / "exclude-rules")
    (tmp_path / "global-link").symlink_to(tmp_path / "global-rules")
    run_git(repo, "config", "--global", "core.excludesFile", str(tmp_path / "global-link"))
    write(repo, {"a.key": "", "b.bak": "", "c.txt": ""})
    assert walked(".") == git_sees(repo) == {"c.txt"}


def test_the_xdg_ignore_file_is_followed_like_git(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "xdg-rules").write_text("*.bak\n")
    xdg = Path(os.environ["XDG_CONFIG_HOME"]) / "git"
    xdg.mkdir(parents=True)
    (xdg / "ignore").symlink_to(tmp_path / "xdg-rules")
    write(repo, {"b.bak": "", "c.txt": ""})
    assert walked(".") == git_sees(repo) == {"c.txt"}


def test_a_relative_excludes_file_is_read_from_the_work_tree_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, {"my-ignore": "*.bak\n", "sub/b.bak": "", "sub/c.txt": "", "sub/my-ignore": "*"})
    run_git(repo, "config", "core.excludesFile", "my-ignore")
    monkeypatch.chdir(repo / "sub")
    assert walked(".") == {"c.txt", "my-ignore"}
    assert {f"sub/{p}" for p in walked(".")} == {p for p in git_sees(repo) if p.startswith("sub/")}


def test_an_empty_excludes_file_setting_turns_the_default_off_like_git(repo: Path) -> None:
    xdg = Path(os.environ["XDG_CONFIG_HOME"]) / "git"
    xdg.mkdir(parents=True)
    (xdg / "ignore").write_text("*.bak\n")
    write(repo, {"b.bak": "", "c.txt": ""})
    assert walked(".") == git_sees(repo) == {"c.txt"}
    run_git(repo, "config", "core.excludesFile", "")
    assert walked(".") == git_sees(repo) == {"b.bak", "c.txt"}


def test_a_gitignore_that_is_a_directory_has_no_rules(repo: Path) -> None:
    write(repo, {".gitignore/x": "*\n", "a.txt": ""})
    assert walked(".") == git_sees(repo) == {".gitignore/x", "a.txt"}


# --- the same fail-open shape elsewhere: "git failed" read as "nothing there" ------------------


def test_a_git_failing_to_resolve_the_stash_is_an_incomplete_scan_not_no_stashes(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the newest stash is reachable from refs; older ones are found through the stash's
    reflog, which is read only when ``rev-parse`` says there is a stash."""
    write(repo, {"a.txt": "clean\n"})
    run_git(repo, "add", ".")
    run_git(repo, "commit", "-q", "-m", "first")
    for text in (f"{token}\n", "clean again\n"):
        write(repo, {"a.txt": text})
        run_git(repo, "stash", "-q")
    assert main(["scan", "--history"]) == 1  # the older stash holds the token
    capsys.readouterr()
    script = 'case "$*" in *"--quiet refs/stash"*) echo "fatal: busy" >&2; exit 128;; esac\n'
    monkeypatch.setenv("PATH", fake_git(tmp_path, script + 'exec "$REAL" "$@"'))

    assert main(["scan", "--history"]) == 2
    assert "git rev-parse failed: busy" in capsys.readouterr().err


def test_a_missing_revision_is_still_just_absent(repo: Path) -> None:
    write(repo, {"a.txt": "clean\n"})
    assert git.commit_exists("HEAD") is False  # no commit yet: exit 1, nothing said
    assert git.stash_commits() == []
    run_git(repo, "add", ".")
    run_git(repo, "commit", "-q", "-m", "first")
    assert git.commit_exists("HEAD") is True
    assert git.commit_exists("0" * 39 + "7") is False


def test_the_lean_staged_path_looks_for_the_config_past_git_debris(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """git walks past an empty ``.git/`` to the repository, and reads its config there: the
    lean path must not call the index clean without the custom rule that config adds."""
    from copera_secretscan import quick

    rule = '[[rules]]\nid = "acme"\nprefix = "acme_live_"\nbody = "[a-f0-9]{32}"\n'
    body = "9c0e4b7a2f61d83e5a0b9c47d2e18f36"
    write(repo, {".copera-secretscan.toml": rule, "sub/keys.txt": f"k = acme_live_{body}\n"})
    run_git(repo, "add", ".")
    (repo / "sub" / ".git").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert quick.main(["scan", "--staged"]) == 1
    assert "acme" in capsys.readouterr().out
