"""The pieces both fast paths share: the anchor search and where the config may be."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from copera_secretscan import fastpath
from copera_secretscan.config.locate import find_config
from copera_secretscan.sources import git, gitenv


@pytest.mark.parametrize("split", range(1, 4))
def test_anchor_split_across_reads_is_seen(monkeypatch: pytest.MonkeyPatch, split: int) -> None:
    monkeypatch.setattr(fastpath, "BLOCK", split)
    data = b"abcd cp_pat_xyz"
    assert fastpath.stream_clean(io.BytesIO(data).read) is False
    assert fastpath.stream_clean(io.BytesIO(data).read, len(data)) is False
    assert fastpath.stream_clean(io.BytesIO(b"abcd cp-pat_xyz").read, 15) is True


def test_short_stream_and_utf16_are_not_clean() -> None:
    assert fastpath.stream_clean(io.BytesIO(b"hello").read, 6) is False  # one byte missing
    assert fastpath.stream_clean(io.BytesIO(b"hello").read, 5) is True
    assert fastpath.stream_clean(io.BytesIO(b"\xff\xfeh\x00i\x00").read) is False
    assert fastpath.stream_clean(io.BytesIO(b"").read, 0) is True


def test_work_tree_root_is_the_nearest_dot_git_dir_or_file(tmp_path: Path) -> None:
    (tmp_path / "outer" / ".git").mkdir(parents=True)
    (tmp_path / "outer" / "wt" / "deep").mkdir(parents=True)
    (tmp_path / "outer" / "wt" / ".git").write_text("gitdir: elsewhere\n")  # a linked worktree
    assert gitenv.work_tree_root(str(tmp_path / "outer" / "wt" / "deep")) == str(
        tmp_path / "outer" / "wt"
    )
    assert gitenv.work_tree_root(str(tmp_path / "outer")) == str(tmp_path / "outer")


def test_toplevel_outside_any_dot_git_starts_no_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "plain" / "sub").mkdir(parents=True)
    real_run = git.run
    calls = []

    def counting_run(args: list[str], **kwargs: object) -> bytes:
        calls.append(args)
        return real_run(args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(git, "run", counting_run)
    assert git.toplevel(str(tmp_path / "plain" / "sub")) is None
    assert calls == []  # no .git above: certain without asking git
    (tmp_path / "plain" / ".git").mkdir()  # not a repository git accepts: git is asked, says no
    assert git.toplevel(str(tmp_path / "plain" / "sub")) is None
    assert len(calls) == 1


def test_config_may_apply_looks_from_the_cwd_up_to_the_work_tree_root(tmp_path: Path) -> None:
    (tmp_path / ".copera-secretscan.toml").write_text("")  # above the repository: not ours
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "a" / "b").mkdir(parents=True)
    assert not fastpath.config_may_apply(str(root / "a" / "b"))
    (root / "pyproject.toml").write_text('[tool."copera-secretscan"]\n')
    assert fastpath.config_may_apply(str(root / "a" / "b"))
    assert fastpath.config_may_apply(str(tmp_path))  # no repository: the cwd's config counts


@pytest.mark.parametrize(
    ("text", "maybe"),
    [
        ("[tool.black]\nline-length = 99\n", False),
        ('[tool."copera-secretscan"]\n', True),
        ('dev = ["copera-secretscan"]\n', True),  # only a parser can tell; the loader decides
        ('[tool."\\u0063opera-secretscan"]\n', True),  # the same key, spelled with an escape
    ],
)
def test_pyproject_is_a_candidate_whenever_it_may_hold_our_table(
    tmp_path: Path, text: str, maybe: bool
) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    expected = str(tmp_path / "pyproject.toml") if maybe else None
    assert find_config(str(tmp_path)) == expected


def test_a_pyproject_that_only_names_us_keeps_the_fast_path(tmp_path: Path) -> None:
    """Our own package name, a dev dependency, a console script: not a config."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "copera-secretscan"\n'
        '[project.scripts]\ncopera-secretscan = "copera_secretscan.cli.main:main"\n'
        '[tool.poetry.dev-dependencies]\ncopera-secretscan = "^0.1"\n'
    )
    assert fastpath.config_may_apply(str(tmp_path)) is False


def test_a_pyproject_with_our_table_or_broken_toml_takes_the_full_scanner(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool."copera-secretscan"]\nmin_length = 20\n')
    assert fastpath.config_may_apply(str(tmp_path)) is True
    (tmp_path / "pyproject.toml").write_text("[tool]\ncopera-secretscan = {{ broken\n")
    assert fastpath.config_may_apply(str(tmp_path)) is True
