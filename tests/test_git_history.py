"""``scan --history`` and ``scan --git RANGE`` on real repositories: what is reachable from refs is
found once per (token, path), at the oldest commit that wrote it; what is not reachable is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from copera_secretscan.cli.main import main
from tests.conftest import commit_all, git
from tests.tokens import make_token

Scan = Callable[..., Tuple[int, Dict[str, Any]]]


@pytest.fixture
def scan_json(capsys: pytest.CaptureFixture[str]) -> Scan:
    def run(*args: str) -> Tuple[int, Dict[str, Any]]:
        code = main(["scan", *args, "--format", "json"])
        out, err = capsys.readouterr()
        assert err == "" or code == 2, err
        return code, json.loads(out)

    return run


def head(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "rev-parse", rev).strip()


def found(report: Dict[str, Any]) -> List[Tuple[Any, Any]]:
    return [(f["path"], f["commit"]) for f in report["findings"]]


def test_token_added_then_deleted_is_found_at_the_commit_that_added_it(
    repo: Path, scan_json: Scan, token: str
) -> None:
    (repo / "README.md").write_text("hello\n")
    commit_all(repo, "initial")
    (repo / "app").mkdir()
    (repo / "app" / "settings.py").write_text(f"DEBUG = True\nTOKEN = '{token}'\n")
    added = commit_all(repo, "add settings")
    (repo / "app" / "settings.py").write_text(f"DEBUG = False\nTOKEN = '{token}'\n")
    commit_all(repo, "turn debug off")
    (repo / "app" / "settings.py").write_text("DEBUG = False\n")
    commit_all(repo, "remove the token")

    code, report = scan_json("--history")

    assert code == 1
    [finding] = report["findings"]
    assert (finding["path"], finding["commit"]) == ("app/settings.py", added)
    assert (finding["line"], finding["column"]) == (2, 10)
    assert finding["present_at_head"] is False
    assert finding["commits"] == 2  # both versions that carried it, reported once
    assert finding["author"] == "Test Author"
    assert finding["date"][:4].isdigit()
    assert token not in json.dumps(report)


def test_token_still_at_head_is_present(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "config.env").write_text(f"COPERA={token}\n")
    first = commit_all(repo, "config")

    code, report = scan_json("--history")

    assert code == 1
    assert found(report) == [("config.env", first)]
    assert report["findings"][0]["present_at_head"] is True


def test_token_only_in_a_stash(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "app.py").write_text("x = 1\n")
    commit_all(repo, "initial")
    (repo / "app.py").write_text(f"x = '{token}'\n")
    git(repo, "stash")

    code, report = scan_json("--history")

    assert code == 1
    assert found(report) == [("app.py", head(repo, "stash@{0}"))]


def test_untracked_file_in_an_older_stash_entry(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "app.py").write_text("x = 1\n")
    commit_all(repo, "initial")
    (repo / "local.env").write_text(f"COPERA={token}\n")
    git(repo, "stash", "push", "--include-untracked")
    (repo / "app.py").write_text("x = 2\n")
    git(repo, "stash")  # the token's stash is now stash@{1}: only the reflog points at it

    code, report = scan_json("--history")

    assert code == 1
    assert found(report) == [("local.env", head(repo, "stash@{1}^3"))]


def test_token_only_on_a_side_branch(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")
    git(repo, "checkout", "-q", "-b", "experiment")
    (repo / "b.txt").write_text(f"{token}\n")
    side = commit_all(repo, "try something")
    git(repo, "checkout", "-q", "main")

    code, report = scan_json("--history")

    assert code == 1
    assert found(report) == [("b.txt", side)]
    assert report["findings"][0]["present_at_head"] is False


def test_token_only_in_a_tag_on_a_commit_no_branch_has(
    repo: Path, scan_json: Scan, token: str
) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")
    git(repo, "checkout", "-q", "--detach")
    (repo / "release.cfg").write_text(f"key: {token}\n")
    tagged = commit_all(repo, "release build")
    git(repo, "tag", "v1.0")
    git(repo, "checkout", "-q", "main")

    code, report = scan_json("--history")

    assert code == 1
    assert found(report) == [("release.cfg", tagged)]


def test_token_in_an_annotated_tag_message(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "a.txt").write_text("a\n")
    tagged = commit_all(repo, "initial")
    git(repo, "tag", "-a", "v2", "-m", f"Release 2\n\ndeployed with {token}")

    code, report = scan_json("--history")

    assert code == 1
    [finding] = report["findings"]
    assert (finding["path"], finding["commit"], finding["line"]) == (None, tagged, 3)
    assert finding["tag"] == "v2"  # the message is the tag's, not the tagged commit's


def test_tag_message_is_labelled_as_the_tag_in_text(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "a.txt").write_text("a\n")
    tagged = commit_all(repo, "initial")
    git(repo, "tag", "-a", "v2", "-m", f"Release 2\n\ndeployed with {token}")

    assert main(["scan", "--history"]) == 1
    out = capsys.readouterr().out

    assert f"tag v2 message line 3, column 15 (on commit {tagged[:12]})" in out
    assert "commit message" not in out


def test_one_commit_with_a_token_in_a_file_and_its_message_is_one_commit(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "a.env").write_text(f"T={token}\n")
    (repo / "b.env").write_text(f"T={token}\n")
    commit_all(repo, f"add config\n\nwith {token}")

    assert main(["scan", "--history"]) == 1
    out = capsys.readouterr().out

    assert "spread: 1 commit, 2 paths; still at HEAD" in out


def test_token_only_in_a_commit_message(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")
    (repo / "a.txt").write_text("b\n")
    culprit = commit_all(repo, f"Fix login\n\nTested with {token} locally")
    (repo / "a.txt").write_text("c\n")
    commit_all(repo, "later")

    code, report = scan_json("--history")

    assert code == 1
    [finding] = report["findings"]
    assert (finding["path"], finding["commit"]) == (None, culprit)
    assert (finding["line"], finding["column"]) == (3, 13)
    assert finding["present_at_head"] is None


def test_rename_reports_each_path_at_its_own_first_commit(
    repo: Path, scan_json: Scan, token: str
) -> None:
    (repo / "old.py").write_text(f"T = '{token}'\n")
    added = commit_all(repo, "add")
    git(repo, "mv", "old.py", "new.py")
    renamed = commit_all(repo, "rename")

    code, report = scan_json("--history")

    assert code == 1
    assert sorted(found(report)) == [("new.py", renamed), ("old.py", added)]
    at_head = {f["path"]: f["present_at_head"] for f in report["findings"]}
    assert at_head == {"new.py": True, "old.py": False}


def test_merge_commit_is_blamed_only_for_what_it_introduced(repo: Path, scan_json: Scan) -> None:
    side_token, merge_token = make_token(seed=11), make_token("cp_key_", seed=12)
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "side.txt").write_text(f"{side_token}\n")
    side = commit_all(repo, "side work")
    git(repo, "checkout", "-q", "main")
    (repo / "main.txt").write_text("main\n")
    commit_all(repo, "main work")
    git(repo, "merge", "-q", "--no-commit", "--no-ff", "side")
    (repo / "resolved.txt").write_text(f"{merge_token}\n")  # an "evil merge" adds content
    git(repo, "add", "resolved.txt")
    git(repo, "commit", "-q", "--no-verify", "-m", "merge side")
    merge = head(repo)

    code, report = scan_json("--history")

    assert code == 1
    assert sorted(found(report)) == [("resolved.txt", merge), ("side.txt", side)]


def test_range_scans_only_the_commits_in_it(repo: Path, scan_json: Scan) -> None:
    old_token, new_token = make_token(seed=21), make_token(seed=22)
    (repo / "old.txt").write_text(f"{old_token}\n")
    base = commit_all(repo, f"old, mentioning {old_token}")
    (repo / "new.txt").write_text(f"{new_token}\n")
    newer = commit_all(repo, "new")

    code, report = scan_json("--git", f"{base}..HEAD")

    assert code == 1
    assert found(report) == [("new.txt", newer)]
    code, report = scan_json("--history", "--git", f"{newer}..HEAD")
    assert (code, report["findings"]) == (0, [])


def test_unreachable_commits_are_not_history(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")
    (repo / "a.txt").write_text(f"{token}\n")
    commit_all(repo, "oops")
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # still in the reflog and the object store

    code, report = scan_json("--history")

    assert (code, report["findings"]) == (0, [])


def test_one_token_in_many_commits_is_one_block_of_text(
    repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    for n in range(5):
        (repo / "conf.ini").write_text(f"version={n}\ntoken={token}\n")
        commit_all(repo, f"release {n}")
    (repo / "copy.ini").write_text(f"token={token}\n")
    commit_all(repo, "copy")

    code = main(["scan", "--history"])
    out = capsys.readouterr().out

    assert code == 1
    assert out.count("Copera Personal Access Token (copera-pat)") == 1
    assert "spread: 6 commits, 2 paths; still at HEAD" in out
    assert "conf.ini:2" in out and "copy.ini:1" in out
    assert "Found 1 Copera token in 2 places: 1 Copera Personal Access Token" in out
    assert "(6 file versions scanned)." in out
    assert token not in out


def test_clean_history_exits_zero_and_prints_nothing_on_stderr(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "a.txt").write_text("cp_pat_your_token_here\n")
    commit_all(repo, "docs")

    code = main(["scan", "--history"])
    out, err = capsys.readouterr()

    assert (code, err) == (0, "")  # no progress display on a pipe
    assert out.startswith("No Copera tokens found")


def test_allow_comment_applies_to_history(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "test_api.py").write_text(f"T = '{token}'  # copera-secretscan: allow\n")
    commit_all(repo, "fixture")

    code, report = scan_json("--history")

    assert (code, report["findings"], report["stats"]["suppressed"]) == (0, [], 1)


def test_bad_range_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")

    assert main(["scan", "--git", "nosuchbranch..HEAD"]) == 2
    assert main(["scan", "--git", "--output=/tmp/x"]) == 2
    err = capsys.readouterr().err
    assert "git rev-list failed" in err and "not a revision range" in err
    assert "Traceback" not in err


def test_progress_counts_blobs_and_bytes(repo: Path) -> None:
    from copera_secretscan import pipeline
    from copera_secretscan.config.settings import Settings

    for n in range(3):
        (repo / f"f{n}.txt").write_text("x" * 1000 + f"{n}\n")
    commit_all(repo, "three files")
    calls: List[Tuple[int, int]] = []

    result = pipeline.scan_history(
        Settings(), progress=lambda done, size: calls.append((done, size))
    )

    assert result.files == 3 and calls[-1][0] == 3
    assert calls[-1][1] == result.bytes >= 3000


def test_token_only_in_a_stash_index(repo: Path, scan_json: Scan, token: str) -> None:
    (repo / "app.py").write_text("x = 1\n")
    commit_all(repo, "initial")
    (repo / "app.py").write_text(f"x = '{token}'\n")
    git(repo, "add", "app.py")
    (repo / "app.py").write_text("x = 2\n")  # the stash's working-tree commit has no token
    git(repo, "stash")

    code, report = scan_json("--history")

    assert code == 1
    assert found(report) == [("app.py", head(repo, "stash@{0}^2"))]


def test_git_modes_exclude_each_other_and_paths(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (["--staged", "--history"], ["--staged", "."], ["--pre-push", "--git", "HEAD"]):
        assert main(["scan", *args]) == 2
    assert capsys.readouterr().err.count("choose one of PATHS") == 3


@pytest.mark.parametrize("fmt", ["github", "sarif", "junit", "gitlab"])
def test_tag_message_is_labelled_as_the_tag_in_ci_reports(
    fmt: str, repo: Path, capsys: pytest.CaptureFixture[str], token: str
) -> None:
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "initial")
    git(repo, "tag", "-a", "v2", "-m", f"Release 2\n\ndeployed with {token}")

    assert main(["scan", "--history", "-f", fmt]) == 1
    out = capsys.readouterr().out

    assert "tag v2 message" in out
    assert "commit message" not in out


def test_history_findings_name_the_refs_that_still_reach_them(
    repo: Path, scan_json: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rewrite must cover every branch, tag and stash entry that holds the token."""
    on_branch, in_stash, old_stash = (make_token("cp_pat_", 32, seed=n) for n in (40, 41, 42))
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "leak.txt").write_text(f"{on_branch}\n")
    commit_all(repo, "leak")
    git(repo, "tag", "v1.2")
    git(repo, "checkout", "-q", "main")
    (repo / "a.txt").write_text(f"{old_stash}\n")
    git(repo, "stash", "-q")
    (repo / "a.txt").write_text(f"{in_stash}\n")
    git(repo, "stash", "-q")  # in_stash is stash@{0}, old_stash now stash@{1}

    code, report = scan_json("--history")

    assert code == 1
    refs = {f["secret"][:11]: f["refs"] for f in report["findings"]}
    assert refs[on_branch[:11]] == ["feature", "v1.2"]
    assert refs[in_stash[:11]] == ["stash@{0}"]
    assert refs[old_stash[:11]] == ["stash@{1}"]
    main(["scan", "--history"])
    text = capsys.readouterr().out
    assert "  reachable from: feature, v1.2\n" in text
    assert "  reachable from: stash@{1}\n" in text


def test_many_refs_are_capped_in_the_text_and_listed_in_json(
    repo: Path, token: str, scan_json: Scan, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "leak.txt").write_text(f"{token}\n")
    commit_all(repo, "leak")
    for n in range(7):
        git(repo, "tag", f"t{n}")

    code, report = scan_json("--history")
    main(["scan", "--history"])
    text = capsys.readouterr().out

    assert code == 1
    assert report["findings"][0]["refs"] == ["main", *(f"t{n}" for n in range(7))]
    assert "  reachable from: main, t0, t1, t2, t3 and 3 more\n" in text
