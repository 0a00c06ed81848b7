"""Arguments mean one thing: no file name acts as an option, no empty value selects a scan.

pre-commit appends the staged file names after the hook's arguments with no ``--``; a CI
recipe passes ``--git "$BASE..HEAD"`` whatever BASE holds. Either must fail closed (exit 2,
one line), never change what is scanned or how the result is reported.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan import quick
from copera_secretscan.argv import read_args
from copera_secretscan.cli.args import option_arity
from copera_secretscan.cli.main import PROG, main, scan
from tests.conftest import commit_all
from tests.tokens import make_token


def fast_path_files(args: list[str]) -> list[str] | None:
    """The files the lean hook check would read itself (``[]``: the index); None: the CLI."""
    found = quick.plan(args)
    return None if found is None else list(found.paths)


def fast_eligible(args: list[str]) -> bool:
    """Whether the lean check may answer ``copera-secretscan ARGS`` itself."""
    return args[:1] == ["scan"] and quick.plan(args[1:], staged_only=True) is not None


TOKEN = make_token("cp_pat_", 36, seed=501)
LEAK = f'K="{TOKEN}"\n'


@contextmanager
def leaky_dir(*names: str) -> Iterator[Path]:
    """A fresh working directory holding ``leak.py`` (a token) and the files ``names``."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            Path("leak.py").write_text(LEAK)
            for name in names:
                Path(name).write_text("x = 1\n")
            yield Path(tmp)
        finally:
            os.chdir(old)


def one_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{PROG}: error: "), err
    return lines[0]


SPELLINGS = [
    "--exit-zero",
    "--show-secrets",
    "--baseline",
    "-",
    "--",
    "--staged",
    "--history",
    "-q",
    "--quiet",
    "--format=json",
    "-fjson",
    "-oX",
    "--output=x",
    "-qo",
    "--no-ignore",
    "-h",
    "--help",
    "--no-color",
    "--bogus",
]


@pytest.mark.parametrize("name", SPELLINGS)
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_file_named_like_an_option_is_refused_not_obeyed(
    name: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with leaky_dir(name) as tmp:
        before = set(os.listdir(tmp))
        args = [name, "leak.py"] if where == "before" else ["leak.py", name]

        code = main(["scan", *args])

        out, err = capsys.readouterr()
        assert code == 2
        assert f"'{name}' is a file here" in one_error(err)
        assert TOKEN not in out + err
        assert set(os.listdir(tmp)) == before  # no --output=x, -oX report written


@pytest.mark.parametrize("name", ["--exit-zero", "-", "--", "--format=json", "-q"])
def test_the_hook_refuses_a_file_named_like_an_option(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with leaky_dir(name):
        assert fast_path_files([name, "leak.py"]) is None  # handed to the full CLI
        code = quick.hook_main([name, "leak.py"])
        assert code == 2
        assert f"'{name}' is a file here" in one_error(capsys.readouterr().err)


@pytest.mark.parametrize("name", ["--exit-zero", "-", "--baseline"])
def test_baseline_create_refuses_a_file_named_like_an_option(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with leaky_dir(name) as tmp:
        assert main(["baseline", "create", name, "leak.py"]) == 2
        assert f"'{name}' is a file here" in one_error(capsys.readouterr().err)
        assert not (tmp / ".copera-secretscan-baseline.json").exists()


def test_the_lean_staged_path_hands_an_option_named_file_to_the_cli(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "-q").write_text("x\n")
    assert fast_eligible(["scan", "--staged", "-q"]) is False
    assert quick.main(["scan", "--staged", "-q"]) == 2
    assert "'-q' is a file here" in one_error(capsys.readouterr().err)


@pytest.mark.parametrize("args", [["--", "--exit-zero"], ["./--exit-zero"], ["./-"]])
def test_a_file_named_like_an_option_is_scanned_when_spelled_as_a_path(
    args: List[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with leaky_dir():
        Path(args[-1]).write_text(LEAK)
        assert main(["scan", *args]) == 1
        assert "copera-pat" in capsys.readouterr().out


def test_an_option_value_that_names_a_file_is_not_ambiguous(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with leaky_dir("-report.json") as tmp:
        assert main(["scan", "-f", "json", "--output", "-report.json", "leak.py"]) == 1
        assert TOKEN[:10] in (tmp / "-report.json").read_text()
        assert main(["scan", "-qo", "-report.json", "leak.py"]) == 1
        assert capsys.readouterr().err == ""


def test_an_option_that_names_no_file_is_still_an_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with leaky_dir():
        assert main(["scan", "leak.py", "--exit-zero"]) == 0
        assert "copera-pat" in capsys.readouterr().out


def arity() -> dict:
    return option_arity(scan, click.Context(scan, info_name="scan"))


@pytest.mark.parametrize(
    ("args", "paths", "suspects"),
    [
        (["-f", "json", "a"], ["a"], ["-f"]),
        (["--format=json", "a"], ["a"], ["--format=json"]),
        (["-fjson", "a"], ["a"], ["-fjson"]),
        (["-qo", "-x", "a"], ["a"], ["-qo"]),  # -x is -o's value
        (["-oX", "-q"], [], ["-oX", "-q"]),  # -o took X: -q is an option (or a path) again
        (["--baseline", "--exit-zero", "a"], ["a"], ["--baseline"]),
        (["a", "-", "--", "-b", "--"], ["a", "-", "-b", "--"], ["-", "--"]),
        (["--no-color", "--git", "-x", "b"], ["b"], ["--no-color", "--git"]),
    ],
)
def test_arguments_are_read_as_click_reads_them(
    args: List[str], paths: List[str], suspects: List[str]
) -> None:
    scanned = read_args(args, arity())
    assert list(scanned.paths) == paths
    assert list(scanned.suspects) == suspects
    assert scan.make_context("scan", list(args)).params["paths"] == tuple(paths)  # as click


_SHORT = st.sampled_from(sorted(k for k in arity() if not k.startswith("--")))
_LONG = st.sampled_from(sorted(k for k in arity() if k.startswith("--")))
OPTION_LIKE = st.one_of(
    _LONG,
    st.builds(lambda opt, tail: f"{opt}={tail}", _LONG, st.text("abcjson._-", max_size=6)),
    st.builds(lambda a, b: a + b[1:], _SHORT, _SHORT),  # clusters: -qf, -qo
    st.builds(lambda a, tail: a + tail, _SHORT, st.text("abcXyz._-=", max_size=6)),
    st.from_regex(r"-{1,2}[A-Za-z0-9._=+@-]{0,20}", fullmatch=True),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=OPTION_LIKE, first=st.booleans())
def test_no_option_like_file_name_changes_what_scan_or_the_hook_does(
    name: str, first: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever the option-like name, the leak is never passed, printed whole, or written."""
    with leaky_dir(name) as tmp:
        before = set(os.listdir(tmp))
        args = [name, "leak.py"] if first else ["leak.py", name]
        capsys.readouterr()
        for run in (lambda: main(["scan", *args]), lambda: quick.hook_main(args)):
            code = run()
            out, err = capsys.readouterr()
            assert code == 2, (name, out, err)
            assert "is a file here" in one_error(err)
            assert TOKEN not in out + err
        assert set(os.listdir(tmp)) == before


BLANK = ["", " ", "\t", " \n "]
VALUED = [
    ["scan", "--git"],
    ["scan", "--commit-msg"],
    ["scan", "--config"],
    ["scan", "--baseline"],
    ["scan", "-b"],
    ["scan", "--output"],
    ["scan", "-o"],
    ["scan", "--report"],
    ["config", "--config"],
    ["baseline", "create", "--baseline"],
    ["baseline", "update", "--config"],
    ["baseline", "audit", "--baseline"],
    ["baseline", "audit", "-b"],
]


@pytest.mark.parametrize("blank", BLANK)
@pytest.mark.parametrize("option", VALUED, ids=" ".join)
def test_an_empty_value_is_a_usage_error_never_another_scan(
    repo: Path, option: List[str], blank: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unset CI variable (``--git "$RANGE"``) must not turn into a clean scan of ``.``."""
    (repo / "a.txt").write_text("clean\n")
    commit_all(repo)

    code = main([*option, blank])

    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "No Copera tokens found" not in out
    assert "empty value" in err or "FORMAT:PATH" in err


@pytest.mark.parametrize("spelling", ["--git=", "--report=sarif:", "--report=sarif: "])
def test_an_empty_attached_value_is_a_usage_error(
    repo: Path, spelling: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", spelling]) == 2
    assert "No Copera tokens found" not in capsys.readouterr().out


@pytest.mark.parametrize("path", ["", " "])
def test_an_empty_path_is_a_usage_error(
    repo: Path, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", path]) == 2
    assert "empty value" in one_error(capsys.readouterr().err)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    option=st.sampled_from(VALUED),
    blank=st.text(alphabet=" \t\n\r\x0b\x0c", max_size=4),
    attached=st.booleans(),
)
def test_no_blank_value_of_any_option_passes(
    repo: Path,
    option: List[str],
    blank: str,
    attached: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [*option[:-1], f"{option[-1]}={blank}"] if attached else [*option, blank]
    if attached and option[-1] in ("-o", "-b"):
        argv[-1] = f"{option[-1]}{blank}"  # "-o" alone is a missing value: exit 2 as well
    capsys.readouterr()
    assert main(argv) == 2
    assert "No Copera tokens found" not in capsys.readouterr().out


@pytest.mark.parametrize("rng", ["..HEAD", "..", "...", "...HEAD", " ..HEAD", "\t...main"])
def test_a_range_with_nothing_before_the_dots_is_a_usage_error(
    repo: Path, rng: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """What ``$BASE..HEAD`` becomes with BASE unset; git would read ``HEAD..HEAD``: nothing."""
    (repo / "a.txt").write_text(f"{TOKEN}\n")
    commit_all(repo)

    assert main(["scan", "--git", rng]) == 2
    assert "nothing before '..'" in one_error(capsys.readouterr().err)


def test_a_range_open_on_the_right_is_git_shorthand_for_head(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "a.txt").write_text("clean\n")
    commit_all(repo)
    (repo / "b.txt").write_text(f"{TOKEN}\n")
    commit_all(repo)

    assert main(["scan", "--git", "HEAD~1.."]) == 1
    assert main(["scan", "--git", "HEAD~1..."]) == 1
    assert "b.txt" in capsys.readouterr().out
