"""One path convention, run from a subdirectory for every format and every source.

Code scanning (SARIF), GitHub annotations, GitLab and JUnit resolve a path from the repository
root, so they carry ``sub/dir/leak.py`` whatever the working directory; text and JSON show the
path the way the user named it. Outside git, the CI formats name files from the scanned
directory. The baseline keys on root-relative paths, so one made at the root suppresses from
anywhere.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Dict, List

import pytest

from copera_secretscan import parallel
from copera_secretscan.cli.main import main
from copera_secretscan.config.locate import BASELINE_FILE
from tests.conftest import commit_all, git

LEAK = "sub/dir/leak.py"
CI_FORMATS = ("sarif", "github", "gitlab", "junit")
SHOWN_FORMATS = ("text", "json")


def sarif_paths(out: str) -> List[str]:
    results = json.loads(out)["runs"][0]["results"]
    return [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]


def github_paths(out: str) -> List[str]:
    return [
        line.split("file=", 1)[1].split(",", 1)[0] for line in out.splitlines() if "file=" in line
    ]


def gitlab_paths(out: str) -> List[str]:
    return [v["location"]["file"] for v in json.loads(out)["vulnerabilities"]]


def junit_paths(out: str) -> List[str]:
    cases = ET.fromstring(out).iter("testcase")
    return [case.get("name", "") for case in cases if case.find("failure") is not None]


def json_paths(out: str) -> List[str]:
    return [finding["path"] for finding in json.loads(out)["findings"]]


def text_paths(out: str) -> List[str]:
    return [line.strip().split(":", 1)[0] for line in out.splitlines() if ".py:1:" in line]


PATHS: Dict[str, Callable[[str], List[str]]] = {
    "sarif": sarif_paths,
    "github": github_paths,
    "gitlab": gitlab_paths,
    "junit": junit_paths,
    "json": json_paths,
    "text": text_paths,
}


def paths_in(fmt: str, args: List[str], capsys: pytest.CaptureFixture[str]) -> List[str]:
    code = main(["scan", "--format", fmt, "--no-color", *args])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    return PATHS[fmt](out)


@pytest.fixture
def leaky(repo: Path, token: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with a token in ``sub/dir/leak.py``, committed, run from ``sub/``."""
    (repo / "sub" / "dir").mkdir(parents=True)
    (repo / LEAK).write_text(f'KEY = "{token}"\n')
    commit_all(repo)
    monkeypatch.chdir(repo / "sub")
    return repo


# (arguments, what text and JSON show) for each way of scanning from sub/
MODES = {
    "dir": (["dir"], "dir/leak.py"),
    "dot": (["."], "dir/leak.py"),
    "file": (["dir/leak.py"], "dir/leak.py"),
    "staged": (["--staged"], "dir/leak.py"),
    "history": (["--history"], LEAK),  # git names history from the root
}


def prepare(repo: Path, mode: str) -> None:
    """For ``--staged``: the file leaves HEAD and is staged again, then cleaned on disk (the
    index is what counts)."""
    if mode == "staged":
        git(repo, "rm", "-q", "--cached", LEAK)
        git(repo, "commit", "-q", "--no-verify", "-m", "untrack")
        git(repo, "add", LEAK)
        (repo / LEAK).write_text("clean now\n")


@pytest.mark.parametrize("fmt", CI_FORMATS)
@pytest.mark.parametrize("mode", sorted(MODES))
def test_ci_formats_name_the_file_from_the_repository_root(
    leaky: Path, mode: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    prepare(leaky, mode)
    assert paths_in(fmt, MODES[mode][0], capsys) == [LEAK]


@pytest.mark.parametrize("fmt", SHOWN_FORMATS)
@pytest.mark.parametrize("mode", sorted(MODES))
def test_text_and_json_show_the_path_as_named(
    leaky: Path, mode: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args, shown = MODES[mode]
    prepare(leaky, mode)
    assert paths_in(fmt, args, capsys) == [shown]


@pytest.mark.parametrize("fmt", CI_FORMATS)
def test_a_path_in_another_repository_is_named_from_its_root(
    leaky: Path, tmp_path: Path, token: str, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    (other / "lib").mkdir(parents=True)
    git(other, "init", "-q")
    (other / "lib" / "conf.py").write_text(f'KEY = "{token}"\n')
    assert paths_in(fmt, [str(other / "lib")], capsys) == ["lib/conf.py"]
    assert paths_in(fmt, [str(other / "lib" / "conf.py")], capsys) == ["lib/conf.py"]


@pytest.mark.parametrize("fmt", CI_FORMATS)
def test_outside_git_ci_formats_name_files_from_the_scanned_directory(
    tmp_path: Path,
    token: str,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "plain" / "dir").mkdir(parents=True)
    (tmp_path / "plain" / "dir" / "leak.py").write_text(f'KEY = "{token}"\n')
    monkeypatch.chdir(tmp_path)
    assert paths_in(fmt, ["plain"], capsys) == ["dir/leak.py"]
    assert paths_in(fmt, ["plain", "--no-ignore"], capsys) == ["dir/leak.py"]
    # a file named outside any work tree keeps the path it was named by
    assert paths_in(fmt, ["plain/dir/leak.py"], capsys) == ["plain/dir/leak.py"]
    assert paths_in("json", ["plain"], capsys) == ["plain/dir/leak.py"]


def test_no_ignore_inside_git_still_names_files_from_the_root(
    leaky: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert paths_in("sarif", ["dir", "--no-ignore"], capsys) == [LEAK]


@pytest.mark.parametrize("fmt", CI_FORMATS)
def test_a_token_in_a_directory_name_is_named_from_the_root(
    repo: Path,
    token: str,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (repo / "sub" / token).mkdir(parents=True)
    (repo / "sub" / token / "a.txt").write_text("nothing here\n")
    monkeypatch.chdir(repo / "sub")
    (shown,) = paths_in("json", ["."], capsys)
    assert shown.startswith("cp_pat_") and "/" not in shown  # the directory, redacted
    (found,) = paths_in(fmt, ["."], capsys)
    assert found.startswith("sub/cp_pat_") and "/" not in found[len("sub/") :]


@pytest.mark.parametrize("fmt", ["sarif", "json"])
def test_a_token_in_a_directory_above_the_working_directory_is_named_from_the_root(
    repo: Path,
    token: str,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (repo / token / "work").mkdir(parents=True)
    (repo / token / "work" / "a.txt").write_text("nothing here\n")
    monkeypatch.chdir(repo / token / "work")
    (found,) = paths_in(fmt, ["."], capsys)
    if fmt == "json":  # shown as an absolute path: it is not under the working directory
        assert found.startswith(str(repo)) and "/" not in found[len(str(repo)) + 1 :]
    else:
        assert found.startswith("cp_pat_") and "/" not in found


def test_worker_processes_keep_the_root_relative_path(
    leaky: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(parallel, "START_FILES", 5)
    monkeypatch.setattr(parallel, "BATCH", 3)
    for i in range(20):
        (leaky / "sub" / "dir" / f"clean{i}.txt").write_text("nothing\n")
    assert paths_in("sarif", ["--jobs", "2", "."], capsys) == [LEAK]


@pytest.mark.parametrize("where", ["sub", "sub/dir"])
def test_a_baseline_made_at_the_root_suppresses_from_a_subdirectory(
    leaky: Path, where: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(leaky)
    assert main(["baseline", "create"]) == 0
    baseline = str(leaky / BASELINE_FILE)
    monkeypatch.chdir(leaky / where)
    capsys.readouterr()
    for args in (["."], ["--history"], [str(leaky / LEAK)], ["--staged"]):
        if args == ["--staged"]:
            prepare(leaky, "staged")
        assert main(["scan", "--format", "json", "--baseline", baseline, *args]) == 0, args
        assert json.loads(capsys.readouterr().out)["stats"]["suppressed"] == 1, args


def test_a_baseline_from_0_1_made_outside_git_still_matches(
    tmp_path: Path, token: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """0.1 keyed a file outside git on its path from the working directory: still accepted."""
    (tmp_path / "plain" / "dir").mkdir(parents=True)
    (tmp_path / "plain" / "dir" / "leak.py").write_text(f'KEY = "{token}"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["baseline", "create", "."]) == 0  # keys plain/dir/leak.py, as 0.1 did
    capsys.readouterr()
    args = ["--baseline", BASELINE_FILE, "plain"]  # keyed from the root now: dir/leak.py
    assert main(["scan", "--format", "json", *args]) == 0
    assert json.loads(capsys.readouterr().out)["stats"]["suppressed"] == 1


def test_the_fingerprint_does_not_depend_on_the_working_directory(
    leaky: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fingerprints() -> List[str]:
        assert main(["scan", "--format", "json", str(leaky / LEAK)]) == 1
        return [f["fingerprint"] for f in json.loads(capsys.readouterr().out)["findings"]]

    from_sub = fingerprints()
    monkeypatch.chdir(leaky)
    assert fingerprints() == from_sub


def test_a_file_that_could_not_be_read_is_annotated_from_the_root(
    leaky: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scan-incomplete annotation points at the file CI can open, like a finding's does."""
    missing = ["dir/leak.py", "dir/gone.py"]
    assert main(["scan", "--format", "github", *missing]) == 1
    out = capsys.readouterr().out
    assert github_paths(out) == [LEAK, "sub/dir/gone.py"]
    assert "sub/dir/gone.py: no such file or directory" not in out  # the message keeps its name
    assert "dir/gone.py: no such file or directory" in out
    assert main(["scan", "--format", "junit", *missing]) == 1
    cases = ET.fromstring(capsys.readouterr().out).iter("testcase")
    errors = [case.get("name") for case in cases if case.find("error") is not None]
    assert errors == ["sub/dir/gone.py"]
