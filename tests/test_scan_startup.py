"""What a scan pays for before its first file (issue 14, item 3): no git process a file read
answers, no module a plain scan does not use, and the ruleset hashed once."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.sources import git as gitsource
from tests.conftest import commit_all, git, python_probe
from tests.tokens import make_token


def test_info_exclude_is_found_on_disk_where_git_names_it(repo: Path, tmp_path: Path) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked))
    for root in (repo, linked):
        asked = gitsource.git_path("info/exclude", str(root))
        assert os.path.realpath(gitsource.info_exclude(str(root))) == os.path.realpath(asked)


def test_info_exclude_of_a_linked_worktree_applies(repo: Path, tmp_path: Path) -> None:
    """The rules of the common directory's info/exclude hide a file in a linked worktree."""
    token = make_token("cp_pat_", 32, seed=21)
    (repo / "keep.txt").write_text("nothing\n")
    commit_all(repo)
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked))
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("secret.env\n")
    (linked / "secret.env").write_text(f"T={token}\n")
    (linked / "shown.env").write_text(f"T={token}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", "--format", "json", "."],
        cwd=linked,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    assert "shown.env" in proc.stdout and "secret.env" not in proc.stdout


def test_a_plain_scan_loads_no_module_it_does_not_use(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello &amp; tcp_keepalive\n")
    probe = (
        "import sys\n"
        "from copera_secretscan.cli.main import main\n"
        f"code = main(['scan', '-q', {str(tmp_path)!r}])\n"
        "unused = ('subprocess', 'html', 'copera_secretscan.doctor', 'copera_secretscan.verify',"
        " 'copera_secretscan.report.doctor', 'tempfile')\n"
        "print(code, [name for name in unused if name in sys.modules])\n"
    )
    proc = python_probe(probe, tmp_path)
    assert proc.stdout.splitlines()[-1] == "0 []", proc.stderr


def test_the_ruleset_is_hashed_once_and_pickles_without_its_hash() -> None:
    class Counted(float):
        """A timeout that counts how often the ruleset's fields are hashed."""

        calls = 0

        def __hash__(self) -> int:
            Counted.calls += 1
            return float.__hash__(self)

    ruleset = Ruleset(min_length=20, timeout=Counted(1.0))
    first = hash(ruleset)
    assert [hash(ruleset) for _ in range(5)] == [first] * 5
    assert Counted.calls == 1  # hashed once, then remembered
    copy = pickle.loads(pickle.dumps(Ruleset(min_length=20)))
    assert copy == Ruleset(min_length=20) and hash(copy) == hash(Ruleset(min_length=20))
    hashed = Ruleset(min_length=20)
    hash(hashed)
    assert "_hash" in hashed.__dict__
    assert "_hash" not in pickle.loads(pickle.dumps(hashed)).__dict__


def test_a_work_tree_whose_ignore_files_hold_only_comments_never_loads_pathspec(
    repo: Path,
) -> None:
    """``git init`` writes an ``info/exclude`` of comments only: compiling nothing from it must
    not cost pathspec's import, while a real pattern in it still applies."""
    (repo / ".git" / "info").mkdir(exist_ok=True)
    exclude = repo / ".git" / "info" / "exclude"
    exclude.write_text("# git ls-files --others --exclude-from=.git/info/exclude\n\n   \n#*.env\n")
    (repo / "a.env").write_text("T=1\n")
    probe = (
        "import sys\n"
        "from copera_secretscan.cli.main import main\n"
        "code = main(['scan', '.'])\n"
        "print(code, 'pathspec' in sys.modules)\n"
    )
    proc = python_probe(probe, repo)
    assert proc.stdout.splitlines()[-2:] == ["No Copera tokens found (1 file scanned).", "0 False"]
    exclude.write_text("*.env\n")
    proc = python_probe(probe, repo)
    assert proc.stdout.splitlines()[-2:] == ["No Copera tokens found (0 files scanned).", "0 True"]


def _scan_probe(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``copera-secretscan scan ARGS`` as the console script runs it, and whether click and
    dataclasses loaded."""
    probe = (
        "import sys\n"
        "from copera_secretscan.quick import main\n"
        f"code = main(['scan', *{list(args)!r}])\n"
        "print(code, 'click' in sys.modules, 'dataclasses' in sys.modules)\n"
    )
    return python_probe(probe, directory)


def test_a_clean_scan_of_a_directory_loads_neither_click_nor_dataclasses(tmp_path: Path) -> None:
    """Issue 14: click loads only to report, and no record on the way is a dataclass; a clean
    walk says what the CLI's report says."""
    (tmp_path / "net.py").write_text("tcp_keepalive = 1\n")
    (tmp_path / "b.txt").write_text("nothing\n")
    assert _scan_probe(tmp_path).stdout.splitlines() == [
        "No Copera tokens found (2 files scanned).",
        "0 False False",
    ]
    assert _scan_probe(tmp_path, "-q", ".").stdout.splitlines() == ["0 False False"]


def test_a_scan_of_a_directory_with_a_token_walks_once_and_reports_as_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lean walk reports its findings itself, as the CLI reports them, without loading
    click; the tree is never read twice, and what only the CLI can say goes to it."""
    from copera_secretscan import pipeline, quick
    from copera_secretscan.cli.main import main as cli_main

    (tmp_path / "leak.env").write_text(f"T={make_token('cp_pat_', 32, seed=22)}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert cli_main(["scan", "."]) == 1
    expected = capsys.readouterr()
    walks = []
    real = pipeline.scan_paths
    monkeypatch.setattr(pipeline, "scan_paths", lambda *a, **k: walks.append(a) or real(*a, **k))
    assert quick.main(["scan", "."]) == 1
    assert capsys.readouterr() == expected
    assert len(walks) == 1
    assert _scan_probe(tmp_path).stdout.splitlines()[-1] == "1 False False"
    assert _scan_probe(tmp_path, "nowhere").stdout.splitlines()[-1].startswith("2 True")


def test_a_scan_of_the_working_directory_asks_git_for_its_work_tree_once(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings' lookup and the walk want git's answer for the same directory: the walk
    reuses it (issue 14, item 3), while another directory is still asked of git."""
    from copera_secretscan import quick

    (repo / "sub").mkdir()
    (repo / "sub" / "a.txt").write_text("nothing\n")
    (repo / "b.txt").write_text("nothing\n")
    commit_all(repo)
    asked = []
    real = gitsource.run

    def counted(args: list, **kwargs: object) -> bytes:
        if args[0] == "rev-parse" and "--show-toplevel" in args:
            asked.append(kwargs.get("cwd"))
        return real(args, **kwargs)

    monkeypatch.setattr(gitsource, "run", counted)
    monkeypatch.chdir(repo)
    assert quick.main(["scan", "-q", "."]) == 0
    assert len(asked) == 1
    asked.clear()
    assert quick.main(["scan", "-q", "sub"]) == 0
    assert len(asked) == 2  # the working directory for the settings, then sub for the walk
