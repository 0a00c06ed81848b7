"""Directory walks see what git sees: every test compares with ``git ls-files`` on a real repo."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

from copera_secretscan.cli.main import cli
from copera_secretscan.models import Problem
from copera_secretscan.sources import ignore
from copera_secretscan.sources.files import FileTarget, iter_targets
from tests.conftest import cli_runner, commit_all, git
from tests.tokens import make_token


def write(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def walked(*paths: str, **kwargs: object) -> List[str]:
    """Display paths of what the walk would scan; a Problem here is a test failure."""
    out = []
    for item in iter_targets(list(paths) or ["."], **kwargs):  # type: ignore[arg-type]
        assert isinstance(item, FileTarget), item
        out.append(item.display)
    return out


def git_sees(repo: Path, *pathspec: str) -> Set[str]:
    """What git would put in a commit of everything: tracked plus untracked-not-ignored."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", *pathspec],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}


TREE = {
    ".gitignore": "*.log\n!keep.log\nbuild/\n/top-only.txt\ndocs/generated\nvendor/\n!vendor/\n"
    "cache/\n!cache/keep.txt\n",
    "app.py": "x",
    "debug.log": "x",
    "keep.log": "x",
    "top-only.txt": "x",
    "sub/top-only.txt": "x",  # anchored /top-only.txt matches only at the root
    "build/out.js": "x",
    "sub/build/out.js": "x",  # dir-only pattern matches at any depth
    "sub/build.txt": "x",  # ... and only directories
    "docs/generated/api.md": "x",  # a pattern with a slash is anchored to its .gitignore
    "docs/guide.md": "x",
    "sub/docs/generated/x.md": "x",
    "vendor/lib.js": "x",  # ignored then re-included by a later negation
    "cache/keep.txt": "x",  # a negated file inside an ignored directory stays ignored
    "cache/blob": "x",
    "sub/.gitignore": "*.tmp\n!important.log\n/local/\n",
    "sub/a.tmp": "x",
    "sub/important.log": "x",  # a deeper negation overrides the root's *.log
    "sub/local/x.txt": "x",
    "sub/deeper/local/y.txt": "x",  # /local/ is anchored to sub/
    "sub/deeper/z.tmp": "x",
    "private.key": "x",  # info/exclude
    "notes.bak": "x",  # global excludes file
    "sub/global-but-kept.bak": "x",  # a .gitignore negation beats the global file
    "info-but-kept.key": "x",
    "untracked.txt": "x",
}


def make_tree(repo: Path) -> None:
    write(repo, TREE)
    (repo / ".git/info/exclude").write_text("*.key\n")
    global_ignore = repo.parent / "global-ignore"
    global_ignore.write_text("*.bak\n")
    git(repo, "config", "--global", "core.excludesFile", str(global_ignore))
    (repo / ".gitignore").write_text((repo / ".gitignore").read_text() + "!info-but-kept.key\n")
    (repo / "sub/.gitignore").write_text(
        (repo / "sub/.gitignore").read_text() + "!global-but-kept.bak\n"
    )


def test_a_walk_yields_exactly_what_git_ls_files_lists(repo: Path) -> None:
    make_tree(repo)
    commit_all(repo, "first")  # commits what is not ignored
    write(repo, {"build/forced.js": "x", "cache/forced.bin": "x"})
    git(repo, "add", "-f", "build/forced.js", "cache/forced.bin")  # tracked inside ignored dirs
    git(repo, "add", "-f", "debug.log")  # a tracked file that a rule matches
    write(repo, {"new-untracked.py": "x", "sub/new.tmp": "x"})

    got = walked(".")

    assert set(got) == git_sees(repo)
    assert len(got) == len(set(got))
    for path in ("build/forced.js", "cache/forced.bin", "debug.log", "new-untracked.py"):
        assert path in got
    for path in ("cache/keep.txt", "notes.bak", "private.key", "sub/new.tmp", "build/out.js"):
        assert path not in got


def test_precedence_deeper_gitignore_then_info_exclude_then_global(repo: Path) -> None:
    global_ignore = repo.parent / "global-ignore"
    global_ignore.write_text("*.a\n!*.b\n")
    git(repo, "config", "--global", "core.excludesFile", str(global_ignore))
    (repo / ".git/info/exclude").write_text("!*.a\n*.b\n*.c\n")
    write(
        repo,
        {
            ".gitignore": "!*.c\n*.d\n",
            "x/.gitignore": "!*.d\n*.e\n",
            "x/y/.gitignore": "!*.e\n",
            **{f"{d}f.{ext}": "x" for d in ("", "x/", "x/y/") for ext in "abcde"},
        },
    )
    assert set(walked(".")) == git_sees(repo)
    assert "f.a" in git_sees(repo) and "f.b" not in git_sees(repo)  # the test means something


def test_last_matching_line_wins_within_one_file(repo: Path) -> None:
    write(repo, {".gitignore": "*.txt\n!a.txt\n*.txt\n!b.txt\n", "a.txt": "", "b.txt": ""})
    assert set(walked(".")) == {".gitignore", "b.txt"} == git_sees(repo)


def test_dir_star_star_ignores_contents_and_allows_re_including_a_file(repo: Path) -> None:
    write(repo, {".gitignore": "out/**\n!out/keep.txt\n", "out/keep.txt": "", "out/x": ""})
    assert set(walked(".")) == {".gitignore", "out/keep.txt"} == git_sees(repo)


def test_walking_a_subdirectory_honours_gitignores_above_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tree(repo)
    commit_all(repo)
    git(repo, "add", "-f", "sub/a.tmp")

    assert {p for p in walked("sub")} == git_sees(repo, "sub")
    monkeypatch.chdir(repo / "sub" / "deeper")
    got = walked(".")
    expected = {p[len("sub/deeper/") :] for p in git_sees(repo, "sub/deeper")}
    assert set(got) == expected
    assert "z.tmp" not in got  # sub/.gitignore (above the walk) still applies


def test_outside_git_gitignore_files_still_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain"
    write(
        plain,
        {
            ".gitignore": "node_modules/\n*.log\n",
            "node_modules/pkg/index.js": "",
            "app.log": "",
            "src/main.py": "",
            "src/.gitignore": "/gen/\n",
            "src/gen/out.py": "",
            # a stray .git file below the top: never followed, never scanned (at the top it would
            # be a work tree whose repository is out of reach: see test_walk_repos.py)
            "src/.git": "gitdir: /nonexistent\n",
        },
    )
    monkeypatch.chdir(plain)
    assert sorted(walked(".")) == [".gitignore", "src/.gitignore", "src/main.py"]


def test_a_repository_inside_a_plain_directory_is_walked_as_its_own_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inner = tmp_path / "projects" / "inner"
    inner.mkdir(parents=True)
    git(inner, "init", "-q")
    write(inner, {"a.py": "", "b.secret": "", "c.gen": ""})
    (inner / ".git/info/exclude").write_text("*.secret\n")
    write(inner, {".gitignore": "*.gen\n"})
    git(inner, "add", "-f", "c.gen")
    monkeypatch.chdir(tmp_path / "projects")
    assert sorted(walked(".")) == ["inner/.gitignore", "inner/a.py", "inner/c.gen"]


def test_no_ignore_scans_everything_but_never_enters_git_dirs(repo: Path) -> None:
    make_tree(repo)
    commit_all(repo)
    got = walked(".", use_ignore=False)
    on_disk = {
        str(p.relative_to(repo))
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    assert set(got) == on_disk
    assert "cache/keep.txt" in got and "notes.bak" in got


def test_git_directory_is_never_entered_even_when_it_holds_a_token(repo: Path) -> None:
    token = make_token("cp_pat_", 32, seed=71)
    write(repo, {"clean.txt": "nothing here\n"})
    commit_all(repo)
    (repo / ".git" / "leak.txt").write_text(f"T={token}\n")
    for args in (["scan", "."], ["scan", "--no-ignore", "."]):
        result = cli_runner().invoke(cli, [*args, "-f", "json"])
        assert result.exit_code == 0, result.output
    assert not any(".git/" in p for p in walked(".", use_ignore=False))


def test_nested_repository_contents_are_not_listed_like_git(repo: Path) -> None:
    write(repo, {"top.txt": ""})
    nested = repo / "nested"
    nested.mkdir()
    git(nested, "init", "-q")
    write(nested, {"inside.txt": ""})
    commit_all(nested)
    assert walked(".") == ["top.txt"]
    # ls-files shows the nested repository as one entry, never its files
    assert {p for p in git_sees(repo) if not p.endswith("/")} == {"top.txt"}
    assert "nested/inside.txt" in walked(".", use_ignore=False)


def test_a_file_named_explicitly_is_scanned_even_if_ignored(repo: Path) -> None:
    token = make_token("cp_key_", 32, seed=72)
    write(repo, {".gitignore": "*.env\n", "prod.env": f"KEY={token}\n"})

    assert walked(".") == [".gitignore"]
    assert walked("prod.env") == ["prod.env"]
    clean = cli_runner().invoke(cli, ["scan", "."])
    named = cli_runner().invoke(cli, ["scan", "prod.env", "-f", "json"])
    assert clean.exit_code == 0, clean.output
    assert named.exit_code == 1 and '"path": "prod.env"' in named.stdout


def test_an_explicitly_named_ignored_directory_is_walked(repo: Path) -> None:
    write(repo, {".gitignore": "dist/\n", "dist/bundle.js": "", "dist/.gitignore": "*.map\n"})
    write(repo, {"dist/bundle.js.map": ""})
    assert walked("dist") == ["dist/.gitignore", "dist/bundle.js"]


def test_symlinks_are_not_followed_in_walks(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"secret.txt": ""})
    write(repo, {"real/file.txt": ""})
    os.symlink("real/file.txt", repo / "link-to-file")
    os.symlink(str(outside), repo / "link-out")
    os.symlink(".", repo / "real" / "loop")
    os.symlink("missing", repo / "broken")

    links = ["broken", "link-out", "link-to-file"]  # scanned as their text, as git stores them
    assert walked(".") == [*links, "real/file.txt", "real/loop"]
    assert walked(".", use_ignore=False) == [*links, "real/file.txt", "real/loop"]
    assert walked("link-out") == ["link-out/secret.txt"]  # a directory link named explicitly
    for target in iter_targets(["."]):
        assert isinstance(target, FileTarget)
        assert target.link == (target.display != "real/file.txt")


def test_the_order_is_sorted_and_stable(repo: Path) -> None:
    names = [f"d{i % 3}/f{(i * 7) % 11}.txt" for i in range(30)]
    write(repo, {name: "" for name in names})
    first = walked(".")
    assert first == walked(".")
    for directory in ("d0/", "d1/", "d2/"):
        inside = [p for p in first if p.startswith(directory)]
        assert inside == sorted(inside)


def test_config_excludes_prune_directories_and_skip_explicit_files(repo: Path) -> None:
    write(repo, {"keep.py": "", "gen/a.py": "", "gen/deep/b.py": "", "skip.txt": ""})
    seen: List[Tuple[str, bool]] = []

    def exclude(path: str, is_dir: bool) -> bool:
        assert os.path.isabs(path)
        seen.append((os.path.basename(path), is_dir))
        return os.path.basename(path) in {"gen", "skip.txt"}

    assert walked(".", exclude=exclude) == ["keep.py"]
    assert ("gen", True) in seen and ("deep", True) not in seen  # pruned, never entered
    assert walked("skip.txt", "keep.py", exclude=exclude) == ["keep.py"]


def test_a_tracked_file_under_an_ignored_directory_in_a_subdirectory_walk(repo: Path) -> None:
    write(repo, {".gitignore": "target/\n", "crate/target/release/notes.txt": "", "x.txt": ""})
    git(repo, "add", "-f", "crate/target/release/notes.txt")
    write(repo, {"crate/target/debug/junk": ""})
    assert walked("crate") == ["crate/target/release/notes.txt"]


def test_malformed_gitignore_lines_are_skipped_like_git(repo: Path) -> None:
    (repo / ".gitignore").write_bytes(b"!\n[\n\\\n[z-a]\n***\n\xff\xfe\n*.log\n\n# c\n")
    write(repo, {"a.log": "", "b.txt": "", "[": "", "\\": ""})
    assert set(walked(".")) == git_sees(repo)
    assert "a.log" not in walked(".")


@pytest.mark.parametrize(
    ("rules", "files"),
    [
        ("b\n!*/\n", ["b/b/build", "b/x", "c"]),  # a later !*/ re-includes directory b/b
        ("e/**/\n", ["e/a/f", "e/f", "g/e/h"]),  # dirs inside e/, not e/ itself nor its files
        ("*\n!*/\n!*.py\n", ["a/b.py", "a/c.txt", "d.py", "e.txt"]),  # the allow-list idiom
        ("/*\n!/src/\n", ["src/a", "other/b", "top"]),
        ("a/**/b\n", ["a/b", "a/x/b", "a/x/y/b", "c/a/b"]),
        ("*.txt\n!b/\n", ["b/x.txt", "b/y"]),  # !b/ does not re-include the files inside b
    ],
)
def test_edge_cases_agree_with_git(repo: Path, rules: str, files: List[str]) -> None:
    write(repo, {".gitignore": rules, **{name: "" for name in files}})
    assert set(walked(".")) == git_sees(repo)


PATTERNS = [
    "*.txt", "!keep.txt", "build/", "/a", "a/b", "!b/", "*.log", "b", "!*.log", "a/**",
    "!a/c.txt", "**/e", "e/", "!e", "*/", "!build/", "/b/", "c.*", "!/a/b/", "a/*/e",
    "**/build/**", "!d.log", "*", "!*/", "a/**/e", "x\\ y", "[a-c]", "[!a]*", "/*", "!/*/",
    "e/**/", "**/a/", "!x y", "x?y", "build/**/c.txt", "#a", "b/ ",
]  # fmt: skip
NAMES = ["a", "b", "c.txt", "d.log", "build", "keep.txt", "x y", "e"]


def random_tree(root: Path, rng: random.Random, depth: int = 0) -> None:
    for name in rng.sample(NAMES, rng.randint(1, 4)):
        path = root / name
        if depth < 3 and rng.random() < 0.45:
            path.mkdir(exist_ok=True)
            random_tree(path, rng, depth + 1)
            if rng.random() < 0.3:
                lines = rng.sample(PATTERNS, rng.randint(1, 4))
                (path / ".gitignore").write_text("\n".join(lines) + "\n")
        elif not path.is_dir():
            path.write_text("")


@pytest.mark.parametrize("seed", range(40))
def test_random_ignore_rules_agree_with_git(repo: Path, seed: int) -> None:
    """Pattern semantics are git's, not just pathspec's: random rules on random trees."""
    rng = random.Random(seed)
    random_tree(repo, rng)
    (repo / ".gitignore").write_text("\n".join(rng.sample(PATTERNS, rng.randint(1, 6))) + "\n")
    (repo / ".git/info/exclude").write_text("\n".join(rng.sample(PATTERNS, 2)) + "\n")
    assert set(walked(".")) == {p for p in git_sees(repo) if not p.endswith("/")}


def test_rules_without_patterns_compile_to_nothing() -> None:
    assert ignore.compile_rules(["", "# only a comment", "!", "   "]) is None


def problems_of(*paths: str) -> List[Problem]:
    return [item for item in iter_targets(list(paths)) if isinstance(item, Problem)]


def test_missing_paths_are_problems_not_crashes(tmp_path: Path) -> None:
    os.symlink("nowhere", tmp_path / "dangling")  # not missing: its link text is its content
    found = problems_of(str(tmp_path / "missing"), str(tmp_path / "dangling"))
    messages: Dict[Optional[str], str] = {Path(p.path or "").name: p.message for p in found}
    assert messages == {"missing": "no such file or directory"}


def test_when_git_cannot_list_tracked_files_the_scan_is_incomplete(repo: Path) -> None:
    """An ignored file might be tracked (committed): not knowing must not look like "clean"."""
    write(repo, {".gitignore": "*.log\n", "a.log": "", "b.txt": ""})
    (repo / ".git" / "index").write_bytes(b"garbage")  # ls-files fails, rev-parse still works

    result = cli_runner().invoke(cli, ["scan", "."])

    assert result.exit_code == 2, result.output
    assert "git ls-files failed" in result.stderr
    [problem] = problems_of(".")
    assert problem.message.startswith("git ls-files failed")
