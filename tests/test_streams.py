"""Closed and full standard streams: one line and exit 2, never a traceback or exit 120.

Real processes only: what matters is what the interpreter does at exit with a stream that
cannot take the rest of its buffer, and whether fd 0 exists at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import pytest

from tests.conftest import git
from tests.tokens import make_token

PROG = "copera-secretscan"
SCAN = [sys.executable, "-m", "copera_secretscan"]
HOOK = [str(Path(sys.executable).parent / "copera-secretscan-hook")]
NO_SPACE = f"{PROG}: error: cannot write to standard output: No space left on device"


def run(cmd: List[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, text=True, timeout=120, check=False, **kwargs)


def to_dev_full(cmd: List[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    with open("/dev/full", "w") as full:
        return run(cmd, cwd, stdout=full, stderr=subprocess.PIPE)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "clean.txt").write_text("nothing here\n")
    (tmp_path / "leak.txt").write_text(f"T={make_token('cp_pat_', 32, seed=701)}\n")
    return tmp_path


@pytest.mark.parametrize(
    "cmd",
    [
        [*SCAN, "scan", "clean.txt"],  # only "No Copera tokens found" to print
        [*SCAN, "scan", "leak.txt"],
        [*SCAN, "scan", "-f", "json", "leak.txt"],
        [*HOOK, "clean.txt"],  # the hook's lean path
        [*HOOK, "leak.txt"],
    ],
    ids=["clean", "found", "json", "hook-clean", "hook-found"],
)
def test_stdout_on_a_full_disk_is_one_line_and_exit_2(files: Path, cmd: List[str]) -> None:
    proc = to_dev_full(cmd, files)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [NO_SPACE]


def test_the_lean_staged_path_on_a_full_disk_is_one_line_and_exit_2(repo: Path) -> None:
    (repo / "a.txt").write_text("x\n")
    git(repo, "add", "a.txt")
    proc = to_dev_full([*SCAN, "scan", "--staged"], repo)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [NO_SPACE]


@pytest.mark.parametrize("cmd", [[*SCAN, "scan", "-"], [*SCAN, "scan", "clean.txt", "-"]])
def test_scan_of_a_closed_stdin_is_a_problem_naming_it(files: Path, cmd: List[str]) -> None:
    proc = run(cmd, files, capture_output=True, preexec_fn=lambda: os.close(0))  # <&-
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"{PROG}: error: -: standard input is closed: not read"]


def test_a_reader_that_left_is_exit_2_and_quiet(files: Path) -> None:
    """``| head -0``: the report cannot arrive; nothing to say about it on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        for cmd in (
            [*SCAN, "scan", "leak.txt"],
            [*SCAN, "scan", "clean.txt"],
            [*HOOK, "clean.txt"],
        ):
            proc = run(cmd, files, stdout=write_end, stderr=subprocess.PIPE)
            assert (proc.returncode, proc.stderr) == (2, ""), cmd
    finally:
        os.close(write_end)


def test_stderr_on_a_full_disk_still_exits_2_not_1(files: Path) -> None:
    """The problem cannot be said; the exit code still must not read as "found" (1)."""
    with open("/dev/full", "w") as full:
        proc = run([*SCAN, "scan", "missing.txt"], files, stdout=subprocess.PIPE, stderr=full)
    assert proc.returncode == 2
