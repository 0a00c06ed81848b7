"""``scan --commit-msg FILE``: every byte of the message file is scanned, and a file that cannot be
read is an error naming it (exit 2), never a hang and never a pass.

git decides what to keep of a message with a cleanup mode the commit-msg hook cannot see:
``git commit -F`` (cleanup ``whitespace``), ``--cleanup=whitespace`` and ``verbatim`` keep a
scissors line and everything below it, so the hook cannot leave that text out.
"""

from __future__ import annotations

import codecs
import os
import string
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan.cli.main import main
from copera_secretscan.config.settings import Settings
from copera_secretscan.pipeline import scan_commit_msg
from tests.conftest import commit_all, git
from tests.tokens import make_token

SCISSORS = "------------------------ >8 ------------------------"
SCANNER = str(Path(sys.executable).parent / "copera-secretscan")


def below_scissors(token: str, comment: str = "#") -> str:
    return f"Subject\n\n{comment} {SCISSORS}\nnotes: {token}\n"


@pytest.mark.parametrize("cleanup", [[], ["--cleanup=whitespace"], ["--cleanup=verbatim"]])
def test_git_keeps_text_below_a_scissors_line_and_commit_msg_blocks_it(
    repo: Path, token: str, capsys: pytest.CaptureFixture[str], cleanup: List[str]
) -> None:
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    message = repo.parent / "msg"
    message.write_text(below_scissors(token))

    git(repo, "commit", "-q", "--no-verify", "-F", str(message), *cleanup)

    assert token in git(repo, "log", "-1", "--format=%B")  # git kept it: a leak in history
    assert main(["scan", "--commit-msg", str(message)]) == 1
    assert "commit message:4:8" in capsys.readouterr().out


def test_a_plain_commit_msg_hook_stops_a_commit_with_a_token_below_the_scissors_line(
    repo: Path,
) -> None:
    hook = repo / ".git" / "hooks" / "commit-msg"
    hook.write_text(f'#!/bin/sh\nexec "{SCANNER}" scan --commit-msg "$1" --quiet\n')
    hook.chmod(0o755)
    (repo / "a.txt").write_text("a\n")
    commit_all(repo, "base")
    (repo / "a.txt").write_text("b\n")
    git(repo, "add", "a.txt")
    message = repo.parent / "msg"
    # a custom comment character moves the scissors line; git still keeps it with -F
    message.write_text(below_scissors(make_token("cp_oat_", seed=33), comment=";"))

    blocked = subprocess.run(
        ["git", "-c", "core.commentChar=;", "commit", "-q", "-F", str(message)],
        cwd=repo,
        capture_output=True,
        text=True,
    )

    assert blocked.returncode != 0 and "commit message:4:8" in blocked.stdout + blocked.stderr
    assert git(repo, "rev-list", "--count", "HEAD").strip() == "1"


comment_chars = st.sampled_from(["#", ";", "@", "!", "%", ""])
filler = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + " .,:-+", max_size=40),
    comment_chars.map(lambda c: f"{c} {SCISSORS}"),
    comment_chars.map(lambda c: f"{c} Please enter the commit message for your changes."),
    st.just("diff --git a/x b/x"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=st.lists(filler, max_size=8),
    after=st.lists(filler, max_size=8),
    prefix=st.sampled_from(["", " ", "+", "-", "# ", "token=", "\t"]),
    kind=st.sampled_from(["cp_pat_", "cp_key_", "cp_oat_"]),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_a_token_on_any_line_of_the_message_file_is_found(
    before: List[str], after: List[str], prefix: str, kind: str, newline: str
) -> None:
    token = make_token(kind, 32, seed=len(before) * 31 + len(after))
    text = newline.join([*before, prefix + token, *after]) + newline
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "COMMIT_EDITMSG")
        with open(path, "w", newline="") as handle:
            handle.write(text)
        result = scan_commit_msg(path, Settings())

    assert [(f.secret, f.line) for f in result.findings] == [(token, len(before) + 1)]
    assert result.problems == ()


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.replace("\n", "\r\n").encode(),
        lambda text: text.replace("\n", "\0\n").encode(),
        lambda text: b"\0\0" + text.encode() + b"\0",
        lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        lambda text: codecs.BOM_UTF8 + text.encode(),
    ],
    ids=["crlf", "nul-before-newline", "nul-around", "utf16-le", "utf16-be", "utf8-bom"],
)
def test_odd_bytes_in_a_message_file_do_not_hide_a_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], token: str, encode: Callable[[str], bytes]
) -> None:
    message = tmp_path / "COMMIT_EDITMSG"
    message.write_bytes(encode(below_scissors(token)))

    assert main(["scan", "--commit-msg", str(message)]) == 1
    assert "copera-pat" in capsys.readouterr().out


def unreadable(tmp_path: Path, kind: str) -> Path:
    """A path that names no readable message file, one way or another."""
    path = tmp_path / kind
    if kind == "directory":
        path.mkdir()
    elif kind == "symlink loop":
        os.symlink(path, path)
    elif kind == "dangling symlink":
        os.symlink(tmp_path / "nowhere", path)
    elif kind == "below a file":
        (tmp_path / "file").write_text("x\n")
        path = tmp_path / "file" / "msg"
    return path


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("missing", "cannot read: No such file or directory"),
        ("directory", "is a directory, not a file"),
        ("symlink loop", "cannot read: Too many levels of symbolic links"),
        ("dangling symlink", "cannot read: No such file or directory"),
        ("below a file", "cannot read: Not a directory"),
    ],
)
def test_a_message_file_that_cannot_be_read_is_a_one_line_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, problem: str
) -> None:
    path = unreadable(tmp_path, kind)

    assert main(["scan", "--commit-msg", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err == f"copera-secretscan: error: {path}: {problem}\n"
    assert "No Copera tokens found" not in out


def test_a_device_is_refused_not_read_as_an_empty_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scan", "--commit-msg", os.devnull]) == 2
    assert f"{os.devnull}: not a regular file" in capsys.readouterr().err


def test_a_fifo_with_no_writer_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "msg"
    os.mkfifo(fifo)

    result = subprocess.run(
        [SCANNER, "scan", "--commit-msg", str(fifo)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert result.stderr == (f"copera-secretscan: error: {fifo}: FIFO with no writer: not read\n")


def test_a_pipe_with_a_writer_is_read_to_its_end(token: str) -> None:
    """``--commit-msg <(cmd)``: the pipe has a writer, so it is read like a file."""
    script = '"$0" scan --commit-msg <(printf "Subject\\n\\n%s\\n" "$1")'
    result = subprocess.run(
        ["bash", "-c", script, SCANNER, token], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 1, result.stderr
    assert "commit message:3:1" in result.stdout
