"""Inputs that break naive scanners: unreadable, vanished, looping, blocking, huge, oddly named.

Each must end in a one-line error naming the file (exit 2, or 1 when a token was found too) or be
skipped on purpose, never in a traceback or a hang.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from click.testing import Result

from copera_secretscan import pipeline as scanner
from copera_secretscan.cli.main import cli
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.sources import files as sources
from tests.conftest import cli_runner
from tests.tokens import make_token

PROG = "copera-secretscan"
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def scan(*args: str) -> Result:
    return cli_runner().invoke(cli, ["scan", *args])


def report(*args: str) -> Dict[str, Any]:
    result = scan("-f", "json", *args)
    assert result.exit_code in (0, 1, 2), result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def error_lines(stderr: str) -> List[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{PROG}: error:")]


def _drop_dac_capabilities() -> None:
    """Make root obey file modes in the child: without these two capabilities, mode 000 binds.

    Dropping them from the bounding set before ``exec`` removes them from the new program. A
    real permission error beats a simulated one, and this works where the interpreter lives in
    a directory another user could not enter (so switching to ``nobody`` would not).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_unprivileged(cwd: Path, *args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """The real CLI in a child process where file modes bind, even when the tests run as root."""
    return subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_drop_dac_capabilities if os.geteuid() == 0 else None,
    )


@pytest.fixture
def plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory that is not a git repository, as the working directory."""
    path = tmp_path / "plain"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


def test_an_unreadable_file_is_one_error_line_and_exit_2(plain: Path) -> None:
    (plain / "ok.txt").write_text("nothing\n")
    secret = plain / "locked.txt"
    secret.write_text("nothing\n")
    secret.chmod(0)
    try:
        proc = run_unprivileged(plain, ".")
    finally:
        secret.chmod(0o644)
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc.stderr) == [
        f"{PROG}: error: locked.txt: cannot read: Permission denied"
    ]
    assert "Traceback" not in proc.stderr


def test_an_unreadable_file_still_errors_when_a_token_is_found(plain: Path) -> None:
    token = make_token("cp_pat_", 32, seed=81)
    (plain / "leak.env").write_text(f"TOKEN={token}\n")
    locked = plain / "locked.txt"
    locked.write_text("x\n")
    locked.chmod(0)
    try:
        proc = run_unprivileged(plain, "-f", "json", ".")
    finally:
        locked.chmod(0o644)
    assert proc.returncode == 1, proc.stderr
    assert error_lines(proc.stderr) == [
        f"{PROG}: error: locked.txt: cannot read: Permission denied"
    ]
    out = json.loads(proc.stdout)
    assert [f["path"] for f in out["findings"]] == ["leak.env"]
    assert out["errors"] == [{"path": "locked.txt", "message": "cannot read: Permission denied"}]


def test_an_unreadable_directory_makes_the_walk_incomplete(plain: Path) -> None:
    (plain / "ok.txt").write_text("x\n")
    locked = plain / "private"
    locked.mkdir()
    (locked / "inside.txt").write_text("x\n")
    locked.chmod(0)
    try:
        proc = run_unprivileged(plain, ".")
    finally:
        locked.chmod(0o755)
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc.stderr) == [
        f"{PROG}: error: private: cannot list directory: Permission denied"
    ]


def test_a_file_deleted_between_walk_and_read_is_a_problem(
    plain: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (plain / "stays.txt").write_text("x\n")
    (plain / "vanishes.txt").write_text("x\n")
    real = sources.iter_targets

    def walk_then_delete(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for item in real(*args, **kwargs):
            if isinstance(item, sources.FileTarget) and item.display == "vanishes.txt":
                os.unlink(item.path)  # gone after the walk listed it, before anything read it
            yield item

    monkeypatch.setattr(sources, "iter_targets", walk_then_delete)
    result = scan(".")
    assert result.exit_code == 2, result.output
    assert error_lines(result.stderr) == [
        f"{PROG}: error: vanishes.txt: cannot read: No such file or directory"
    ]


def test_broken_symlinks_are_skipped_in_walks_and_scanned_as_link_text_when_named(
    plain: Path,
) -> None:
    """git commits a symbolic link as its target's text: a dangling one blocks nothing."""
    os.symlink("nowhere", plain / "dangling")
    (plain / "ok.txt").write_text("x\n")

    walked = scan(".")
    named = scan("dangling")

    assert walked.exit_code == 0, walked.output
    assert named.exit_code == 0, named.output
    assert error_lines(named.stderr) == []


def test_symlink_loops_neither_hang_nor_crash(plain: Path) -> None:
    token = make_token("cp_oat_", 32, seed=82)
    (plain / "d").mkdir()
    (plain / "d" / "t.txt").write_text(f"{token}\n")
    os.symlink("..", plain / "d" / "up")  # a directory loop
    os.symlink("b", plain / "a")
    os.symlink("a", plain / "b")  # a file-level loop

    walked = report(".")
    named = scan("a")

    assert [f["path"] for f in walked["findings"]] == ["d/t.txt"]  # found once, not forever
    assert walked["errors"] == []
    assert named.exit_code == 0, named.output  # a loop leads nowhere: its link text is scanned
    assert error_lines(named.stderr) == []


def test_a_fifo_in_a_walk_is_skipped_without_opening_it(plain: Path) -> None:
    token = make_token("cp_key_", 32, seed=83)
    os.mkfifo(plain / "pipe")  # opening it would block forever: no writer
    (plain / "leak.txt").write_text(f"{token}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", "-f", "json", "."],
        cwd=plain,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert [f["path"] for f in json.loads(proc.stdout)["findings"]] == ["leak.txt"]


def test_empty_files_are_scanned_and_clean(plain: Path) -> None:
    (plain / "empty.txt").write_bytes(b"")
    (plain / "also-empty").touch()
    out = report(".")
    assert out["findings"] == [] and out["errors"] == []
    assert out["stats"]["files"] == 2 and out["stats"]["bytes"] == 0
    assert scan(".").exit_code == 0


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (b"with space.txt", "with space.txt"),
        (b"new\nline.txt", "new\\nline.txt"),
        (b"bad\xff\xfename.txt", "bad\\xff\\xfename.txt"),
        (b"caf\xc3\xa9.txt", "café.txt"),
    ],
)
def test_odd_file_names_are_opened_and_reported(plain: Path, name: bytes, shown: str) -> None:
    token = make_token("cp_pat_", 32, seed=84)
    with open(os.path.join(os.fsencode(plain), name), "wb") as handle:
        handle.write(f"x = 1\nTOKEN = '{token}'\n".encode())

    out = report(".")
    text = scan(".")

    assert [(f["path"], f["line"], f["column"]) for f in out["findings"]] == [(shown, 2, 10)]
    assert text.exit_code == 1
    assert f"{shown}:2:10:" in text.stdout  # one line, whatever the name holds
    explicit = list(sources.iter_targets([os.fsdecode(name)]))
    assert [t.display for t in explicit] == [shown]  # type: ignore[union-attr]


def test_a_2gb_sparse_file_is_streamed_and_the_token_located(plain: Path) -> None:
    token = make_token("cp_pat_", 40, seed=85)
    big = plain / "disk.img"
    size = 2 << 30
    with open(big, "wb") as handle:
        handle.truncate(size)  # sparse: no disk space, but 2 GiB of zeros to read
        os.pwrite(handle.fileno(), b"\n", 1 << 30)
        os.pwrite(handle.fileno(), f"\nKEY={token}\n".encode(), size - 100)

    scanned = scanner.scan_file(sources.FileTarget(str(big), "disk.img"), Ruleset())

    assert scanned.problem is None and scanned.size == size
    [finding] = scanned.findings
    assert (finding.secret, finding.line, finding.column) == (token, 3, 5)


def test_a_directory_that_is_not_a_repository_is_scanned(plain: Path) -> None:
    token = make_token("cp_key_", 32, seed=86)
    (plain / "src").mkdir()
    (plain / "src" / "config.py").write_text(f"KEY = '{token}'\n")
    result = scan("-f", "json", str(plain))
    assert result.exit_code == 1, result.output
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["path"] == "src/config.py"


def test_malformed_gitignore_lines_do_not_crash_the_scan(plain: Path) -> None:
    token = make_token("cp_pat_", 32, seed=87)
    (plain / ".gitignore").write_bytes(b"!\n[\n\\\n[z-a]\n\xff\n*.log\n")
    (plain / "app.log").write_text(f"{token}\n")
    (plain / "app.py").write_text(f"{token}\n")
    result = scan("-f", "json", ".")
    assert result.exit_code == 1, result.output
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["app.py"]


def test_a_missing_path_among_good_ones_is_reported_and_the_rest_scanned(plain: Path) -> None:
    token = make_token("cp_pat_", 32, seed=88)
    (plain / "leak.txt").write_text(f"{token}\n")
    result = scan("leak.txt", "nope.txt")
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [f"{PROG}: error: nope.txt: no such file or directory"]
    assert "leak.txt:1:1:" in result.stdout


def explicit_problem(path: str) -> Optional[str]:
    items = list(sources.iter_targets([path]))
    return items[0].message if items and hasattr(items[0], "message") else None  # type: ignore[union-attr]


def test_a_device_named_explicitly_is_refused_not_read_forever() -> None:
    assert explicit_problem("/dev/zero") == "not a regular file (device or socket): not scanned"


def scan_process(cwd: Path, *args: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """The real CLI with a deadline: a scan that waits on a FIFO fails instead of hanging."""
    return subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("args", [["pipe"], ["ok.txt", "pipe"], ["--jobs", "1", "pipe", "."]])
def test_a_fifo_named_with_no_writer_is_an_error_not_a_hang(plain: Path, args: List[str]) -> None:
    os.mkfifo(plain / "pipe")
    (plain / "ok.txt").write_text("x\n")
    proc = scan_process(plain, *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert error_lines(proc.stderr) == [f"{PROG}: error: pipe: FIFO with no writer: not read"]


def test_a_fifo_named_with_a_writer_is_read_to_its_end(plain: Path) -> None:
    from tests.fifos import connected_writer, wait_until_taken

    token = make_token("cp_key_", 32, seed=89)
    os.mkfifo(plain / "pipe")
    data = f"one\ntwo {token}\n".encode()
    writer = connected_writer(plain / "pipe", data)
    proc = subprocess.Popen(
        [sys.executable, "-m", "copera_secretscan", "scan", "-f", "json", "pipe"],
        cwd=plain,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_taken(writer, len(data), proc)  # the scanner reads: a writer is there
    finally:
        os.close(writer)  # the end of the stream
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 1, err
    found = json.loads(out)["findings"]
    assert [(f["path"], f["line"], f["column"]) for f in found] == [("pipe", 2, 5)]


def test_process_substitution_is_scanned_even_before_its_writer_writes(plain: Path) -> None:
    """``scan <(cmd)``: the pipe has a writer from the start, with nothing in it for a while."""
    token = make_token("cp_oat_", 32, seed=90)
    shell = f"{sys.executable} -m copera_secretscan scan <(sleep 1; printf 'T=%s\\n' {token})"
    proc = subprocess.run(
        ["bash", "-c", shell], cwd=plain, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    assert ":1:3: Copera MCP OAuth token" in proc.stdout


def test_a_token_in_a_dangling_symlinks_text_is_found(plain: Path) -> None:
    token = make_token("cp_pat_", 32, seed=91)
    os.symlink(f"/home/me/{token}", plain / "creds")

    out = report("creds")

    assert [(f["path"], f["line"], f["column"]) for f in out["findings"]] == [("creds", 1, 10)]
    assert out["errors"] == []


def test_a_symlink_to_a_regular_file_is_scanned_through(plain: Path) -> None:
    token = make_token("cp_pat_", 32, seed=92)
    (plain / "real.env").write_text(f"\nT={token}\n")
    os.symlink("real.env", plain / "link.env")

    out = report("link.env")

    assert [(f["path"], f["line"]) for f in out["findings"]] == [("link.env", 2)]


@pytest.mark.parametrize(
    "args",
    [
        ["a.py", "a.py"],
        ["./a.py", "a.py"],
        [".", "a.py"],
        ["a.py", "."],
        ["dir", "dir/sub"],
        ["dir/sub", "dir", "./dir/../dir"],
    ],
)
def test_a_file_reached_through_two_paths_is_scanned_and_reported_once(
    plain: Path, args: List[str]
) -> None:
    token = make_token("cp_pat_", 32, seed=93)
    (plain / "dir" / "sub").mkdir(parents=True)
    (plain / "dir" / "sub" / "deep.py").write_text(f"T = '{token}'\n")
    (plain / "a.py").write_text(f"T = '{token}'\n")

    out = report(*args)

    paths = [f["path"] for f in out["findings"]]
    assert len(paths) == len(set(paths)) >= 1
    assert out["stats"]["files"] == len(set(paths))


def test_a_path_through_a_link_and_dot_dot_is_not_merged_with_its_lexical_twin(
    plain: Path,
) -> None:
    """``link/../a.py`` is ``elsewhere/../a.py`` to the system, not ``./a.py``: both scanned."""
    token = make_token("cp_pat_", 32, seed=94)
    (plain / "a.py").write_text("x = 1\n")
    (plain / "elsewhere" / "inner").mkdir(parents=True)
    (plain / "elsewhere" / "a.py").write_text(f"T = '{token}'\n")
    os.symlink("elsewhere/inner", plain / "link")

    out = report("a.py", "link/../a.py")

    assert len(out["findings"]) == 1  # the token in elsewhere/a.py
    assert out["stats"]["files"] == 2


def test_a_missing_path_given_twice_is_one_error(plain: Path) -> None:
    result = scan("nope.txt", "./nope.txt", "nope.txt")
    assert result.exit_code == 2
    assert error_lines(result.stderr) == [f"{PROG}: error: nope.txt: no such file or directory"]


def test_one_path_is_not_deduplicated_at_all(plain: Path) -> None:
    """The common case (one tree, and the benchmarks) keeps the walk's own generator."""
    assert sources.iter_targets(["."]).__name__ == "_targets"  # type: ignore[attr-defined]
    assert sources.iter_targets([".", "."]).__name__ == "_once"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "--output", "/"],
        ["scan", "--min-length", "0"],
        ["scan", "--no-such-option"],
        ["scan", "--format", "xml"],
        ["baseline", "create", "--nope"],
        ["no-such-command"],
    ],
)
def test_a_usage_error_is_one_line_naming_the_problem(
    argv: list, capsys: pytest.CaptureFixture[str]
) -> None:
    from copera_secretscan.cli.main import main

    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("copera-secretscan: error: ")
    assert "--help" in err
