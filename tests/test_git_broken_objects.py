"""A repository git cannot fully read: history, range, push and staged scans say what they could
not read and never pass (an unreadable object is an incomplete scan, exit 2).

Each damage is made to one object of a middle commit, then every git scan that reaches it runs
on the same repository: ``--history``, ``--git BASE..TAG``, and ``--pre-push`` both as
pre-commit runs it (environment) and as git runs a plain hook (lines on stdin).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest

from copera_secretscan import pipeline, quick
from copera_secretscan.cli.main import main
from tests.conftest import commit_all, git
from tests.tokens import make_token

Revs = Dict[str, str]


def loose(repo: Path, oid: str) -> Path:
    return repo / ".git" / "objects" / oid[:2] / oid[2:]


def delete(path: Path) -> None:
    path.unlink()


def truncate(path: Path) -> None:
    """Cut the compressed file in half, as an interrupted write would."""
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garbage(path: Path) -> None:
    """Replace the file with bytes that are not even a zlib stream."""
    path.chmod(0o644)
    path.write_bytes(bytes(range(7, 47)))


def short_body(path: Path) -> None:
    """A well-formed object whose header promises more bytes than it holds."""
    kind = zlib.decompress(path.read_bytes()).split(b" ", 1)[0]
    path.chmod(0o644)
    path.write_bytes(zlib.compress(kind + b" 4000\0short"))


@pytest.fixture
def history(repo: Path) -> Revs:
    """base, change (the commit we damage), tip on main, and ``vt``: an annotated tag on a
    commit only the tag reaches. Every object is loose, so each can be damaged alone."""
    (repo / "a.txt").write_text("one\n")
    base = commit_all(repo, "base")
    (repo / "a.txt").write_text("two\n")
    (repo / "sub" / "deep").mkdir(parents=True)
    (repo / "sub" / "s.txt").write_text("s\n")
    (repo / "sub" / "deep" / "d.txt").write_text("d\n")
    change = commit_all(repo, "change")
    (repo / "a.txt").write_text("three\n")
    tip = commit_all(repo, "tip")
    (repo / "t.txt").write_text("tagged\n")
    tagged = commit_all(repo, "tagged")
    git(repo, "tag", "-a", "-m", "release", "vt")
    git(repo, "reset", "-q", "--hard", tip)
    return {"base": base, "change": change, "tip": tip, "tagged": tagged, "vt": "vt"}


def scan_all_ways(
    repo: Path, revs: Revs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> List[Tuple[str, int, str]]:
    """(how, exit code, stderr) for each scan that reaches the damaged commit."""
    tag = git(repo, "rev-parse", "refs/tags/vt", check=False).strip() or "vt"
    results = []
    for how, args in (("history", ["--history"]), ("range", ["--git", f"{revs['base']}..vt"])):
        results.append((how, main(["scan", *args]), capsys.readouterr().err))
    with monkeypatch.context() as env:
        env.setenv("PRE_COMMIT_TO_REF", tag)
        env.setenv("PRE_COMMIT_FROM_REF", revs["base"])
        results.append(("pre-push env", main(["scan", "--pre-push"]), capsys.readouterr().err))
    line = f"refs/tags/vt {tag} refs/tags/vt {revs['base']}\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(line))
    results.append(("pre-push lines", main(["scan", "--pre-push"]), capsys.readouterr().err))
    return results


OBJECTS = {
    "root tree": "{change}^{{tree}}",
    "subtree": "{change}:sub",
    "nested subtree": "{change}:sub/deep",
    "blob": "{change}:a.txt",
    "nested blob": "{change}:sub/deep/d.txt",
    "parent commit": "{change}",
    "annotated tag target": "{tagged}",
    "annotated tag": "refs/tags/vt",
}
Damage = Callable[[Path], None]
CASES = [(what, delete) for what in OBJECTS] + [
    (what, how)
    for what in ("root tree", "subtree", "blob", "parent commit")
    for how in (truncate, garbage, short_body)
]


@pytest.mark.parametrize(
    ("what", "damage"), CASES, ids=[f"{what}-{how.__name__}" for what, how in CASES]
)
def test_an_unreadable_object_is_an_incomplete_scan_never_a_pass(
    repo: Path,
    history: Revs,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    what: str,
    damage: Damage,
) -> None:
    oid = git(repo, "rev-parse", OBJECTS[what].format(**history)).strip()
    damage(loose(repo, oid))

    for how, code, err in scan_all_ways(repo, history, capsys, monkeypatch):
        assert code == 2, (how, err)
        assert any(name in err for name in names(what, damage, oid)), (how, err)
        assert "No Copera tokens found" not in err and "Traceback" not in err


def names(what: str, damage: Damage, oid: str) -> List[str]:
    """What the error must name: the object, else where it was. A tree whose body is cut short
    parses as a bad entry, and git then names neither: its own reason is all there is."""
    if what == "annotated tag":
        return [oid, "refs/tags/vt", "..vt"]
    if damage is short_body and what == "blob":
        return ["output ended early in a.txt"]
    if damage is short_body and what.endswith("tree"):
        return ["git rev-list failed: "]
    return [oid]


def test_a_missing_tree_does_not_hide_the_tokens_that_were_found(
    repo: Path, history: Revs, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_pat_", 32, seed=71)
    (repo / "leak.txt").write_text(f"{token}\n")
    leak = commit_all(repo, "leak")
    oid = git(repo, "rev-parse", f"{history['change']}:sub").strip()
    delete(loose(repo, oid))

    code = main(["scan", "--history", "--format", "json"])
    out, err = capsys.readouterr()

    report = json.loads(out)
    assert code == 1  # found, and still every error printed
    assert [f["path"] for f in report["findings"]] == ["leak.txt"]
    assert report["errors"][0]["path"] == oid and oid in err
    assert "git log failed" in err  # so where it came from is unknown, and said to be
    assert leak not in out


def test_exit_zero_does_not_turn_a_missing_tree_into_a_pass(
    repo: Path, history: Revs, capsys: pytest.CaptureFixture[str]
) -> None:
    delete(loose(repo, git(repo, "rev-parse", f"{history['change']}^{{tree}}").strip()))

    assert main(["scan", "--history", "--exit-zero"]) == 2


@pytest.mark.parametrize("lost", ["blob:none", "tree:0"])
def test_partial_clone_objects_are_reported_missing_in_every_git_scan(
    repo: Path,
    history: Revs,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    lost: str,
) -> None:
    git(repo, "config", "uploadpack.allowFilter", "true")
    partial = repo.parent / "partial"
    url = f"file://{repo}"
    git(repo.parent, "clone", "-q", f"--filter={lost}", "--no-checkout", url, str(partial))
    git(partial, "fetch", "-q", "origin", "refs/tags/vt:refs/tags/vt")
    monkeypatch.chdir(partial)

    results = scan_all_ways(partial, history, capsys, monkeypatch)

    missing = {
        line[1:]
        for line in git(partial, "rev-list", "--objects", "--all", "--missing=print").split()
        if line.startswith("?")
    }
    kind = lost.split(":")[0]  # blob:none lacks blobs; tree:0 lacks trees (and their blobs)
    lacking = {oid for oid in missing if git(repo, "cat-file", "-t", oid).strip() == kind}
    assert lacking  # the clone really lacks them, and the scans did not download them
    for how, code, err in results:
        assert code == 2 and "not fetched" in err, (how, err)
        assert any(oid in err for oid in lacking), (how, err)


def staged_repo(repo: Path) -> str:
    (repo / "a.txt").write_text("one\n")
    commit_all(repo, "base")
    (repo / "a.txt").write_text("two\n")
    (repo / "new.txt").write_text("new\n")
    git(repo, "add", "-A")
    return git(repo, "rev-parse", ":new.txt").strip()


@pytest.mark.parametrize("damage", [delete, truncate, garbage], ids=lambda d: d.__name__)
@pytest.mark.parametrize("runner", ["cli", "lean entry"])
def test_a_staged_blob_git_cannot_read_is_an_error_naming_the_file(
    repo: Path, capsys: pytest.CaptureFixture[str], damage: Damage, runner: str
) -> None:
    damage(loose(repo, staged_repo(repo)))

    run = main if runner == "cli" else quick.main
    code = run(["scan", "--staged"])
    err = capsys.readouterr().err

    assert code == 2, err
    assert "new.txt: staged content missing" in err and "No Copera tokens found" not in err


def test_a_staged_blob_with_a_short_body_is_an_error_naming_the_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short_body(loose(repo, staged_repo(repo)))

    assert main(["scan", "--staged"]) == 2
    err = capsys.readouterr().err
    assert "new.txt" in err and err.count("\n") == 1


def test_every_tree_reaches_scan_tree_whole_and_counts_as_no_file(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``scan_tree`` is where tree entry names will be scanned: it must see each tree once,
    byte for byte as git stores it, and the stream must stay in step after it."""
    (repo / "d" / "e").mkdir(parents=True)
    (repo / "d" / "e" / "f.txt").write_text("x\n")
    commit_all(repo, "nested")
    seen: Dict[str, bytes] = {}
    monkeypatch.setattr(
        pipeline, "scan_tree", lambda header, data, *_: seen.setdefault(header.oid, data)
    )

    assert main(["scan", "--history", "--format", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)["stats"]

    stored = git(
        repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"
    )
    trees = [line.split()[0] for line in stored.splitlines() if line.endswith(" tree")]
    assert sorted(seen) == sorted(trees) and len(trees) == 3  # the root, d and d/e
    for oid, data in seen.items():
        stored_tree = subprocess.run(["git", "cat-file", "tree", oid], capture_output=True)
        assert data == stored_tree.stdout
    assert stats["files"] == 1


def test_an_unreadable_copy_at_head_makes_present_at_head_unknown_not_false(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A range that stops before HEAD never reads HEAD's copy in the stream; provenance reads
    it again, and a copy git cannot give must not be taken for "the token is gone"."""
    token = make_token("cp_key_", 32, seed=72)
    (repo / "k.txt").write_text(f"{token}\n")
    first = commit_all(repo, "add")
    (repo / "k.txt").write_text(f"{token}\nmore\n")
    commit_all(repo, "edit")
    delete(loose(repo, git(repo, "rev-parse", "HEAD:k.txt").strip()))

    code = main(["scan", "--git", first, "--format", "json"])
    out, err = capsys.readouterr()

    report = json.loads(out)
    assert code == 1
    [finding] = report["findings"]
    assert (finding["path"], finding["commit"], finding["present_at_head"]) == (
        "k.txt",
        first,
        None,
    )
    assert "k.txt at HEAD: missing or unreadable" in err
