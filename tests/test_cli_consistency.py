"""The command line reads the same everywhere: one meaning per short option, help on every
option, each entry point's --help naming it, and terminal manners (NO_COLOR, TERM=dumb)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import click
import pytest

from copera_secretscan.cli.main import cli
from copera_secretscan.cli.terminal import Progress, use_color
from tests.tokens import make_token

BIN = Path(sys.executable).parent


def commands(command: click.Command, path: Tuple[str, ...] = ()) -> Iterator[Tuple[str, ...]]:
    """The path of every command under ``command`` (itself included), depth first."""
    yield path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from commands(sub, (*path, name))


def resolve(path: Tuple[str, ...]) -> Tuple[click.Command, click.Context]:
    command: click.Command = cli
    ctx = click.Context(cli, info_name="copera-secretscan", **cli.context_settings)
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
        ctx = click.Context(command, info_name=name, parent=ctx, **command.context_settings)
    return command, ctx


def options() -> Iterator[Tuple[str, click.Option]]:
    for path in commands(cli):
        command, ctx = resolve(path)
        for param in command.get_params(ctx):
            if isinstance(param, click.Option):
                yield " ".join(("copera-secretscan", *path)), param


def meaning(option: click.Option) -> str:
    """What an option is: its longest spelling (``--output``), and whether it is a flag."""
    longest = max((*option.opts, *option.secondary_opts), key=len)
    return f"{longest}{'' if option.is_flag else ' VALUE'}"


def test_the_walk_sees_every_command() -> None:
    found = {" ".join(path) for path in commands(cli)}
    assert {
        "scan",
        "config",
        "doctor",
        "baseline create",
        "baseline update",
        "baseline audit",
    } <= found


def test_one_short_option_means_one_thing_in_every_command() -> None:
    """``-o`` was ``--output`` in ``scan`` and ``--baseline`` in ``baseline ...``."""
    seen: Dict[str, Dict[str, List[str]]] = {}
    for where, option in options():
        for spelling in (*option.opts, *option.secondary_opts):
            if not spelling.startswith("--"):
                seen.setdefault(spelling, {}).setdefault(meaning(option), []).append(where)
    clashes = {short: uses for short, uses in seen.items() if len(uses) > 1}
    assert clashes == {}
    assert list(seen["-o"]) == ["--output VALUE"]
    assert list(seen["-b"]) == ["--baseline VALUE"]
    assert len(seen["-b"]["--baseline VALUE"]) == 4  # scan and every baseline command
    assert list(seen["-h"]) == ["--help"]


def test_every_option_has_help() -> None:
    missing = [
        f"{where} {option.opts[0]}"
        for where, option in options()
        if not option.hidden and not (option.help or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["copera-secretscan-hook", "--help"], "Usage: copera-secretscan-hook [OPTIONS] [PATHS]"),
        (["copera-secretscan-hook", "-h"], "Usage: copera-secretscan-hook [OPTIONS] [PATHS]"),
        (["copera-secretscan", "--help"], "Usage: copera-secretscan [OPTIONS] COMMAND"),
        (["copera-secretscan", "scan", "-h"], "Usage: copera-secretscan scan [OPTIONS]"),
        (
            ["copera-secretscan", "baseline", "create", "--help"],
            "Usage: copera-secretscan baseline",
        ),
        (["-m", "copera_secretscan", "--help"], "Usage: python -m copera_secretscan [OPTIONS]"),
        (["-m", "copera_secretscan", "scan", "--help"], "Usage: python -m copera_secretscan scan"),
    ],
)
def test_every_entry_point_s_help_names_itself(argv: List[str], usage: str) -> None:
    """Each console script as installed, run as a real process."""
    command = [sys.executable, *argv] if argv[0] == "-m" else [str(BIN / argv[0]), *argv[1:]]
    proc = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.startswith(usage)


def test_the_hook_s_help_describes_the_hook() -> None:
    """The hook given no file names scans the index, not the current directory as ``scan``."""
    hook = subprocess.run(
        [str(BIN / "copera-secretscan-hook"), "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "given none, the index" in hook and "--disable-rule" in hook
    scan = subprocess.run(
        [str(BIN / "copera-secretscan"), "scan", "--help"], capture_output=True, text=True
    ).stdout
    assert "default: the current directory" in scan and "the index" not in scan.split("Options")[0]


def test_a_hook_usage_error_points_at_the_hook_s_help(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(BIN / "copera-secretscan-hook"), "--no-such-option"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "(see 'copera-secretscan-hook --help')" in proc.stderr
    assert "copera-secretscan scan" not in proc.stderr


# --- terminal manners -------------------------------------------------------------------------


class Tty:
    def __init__(self) -> None:
        self.written = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written += text
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize(
    ("env", "forced", "colour"),
    [
        ({"TERM": "xterm-256color"}, None, True),
        ({"TERM": "dumb"}, None, False),
        ({"TERM": "xterm", "NO_COLOR": "1"}, None, False),
        ({"TERM": "dumb"}, True, True),  # --color still forces it
        ({"TERM": "xterm"}, False, False),
    ],
)
def test_term_dumb_means_no_colour_as_no_color_does(
    env: Dict[str, str], forced: bool, colour: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert use_color(Tty(), forced) is colour  # type: ignore[arg-type]


@pytest.mark.parametrize(("term", "drawn"), [("xterm", True), ("dumb", False)])
def test_no_progress_line_on_a_dumb_terminal(
    term: str, drawn: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The progress line is ``\\r`` and an erase sequence, which a dumb terminal prints."""
    monkeypatch.setenv("TERM", term)
    tty = Tty()
    progress = Progress(tty)  # type: ignore[arg-type]
    progress.last -= 1
    progress(10, 1000)
    progress.close()
    assert ("\r" in tty.written) is drawn
    assert ("\033[" in tty.written) is drawn


def on_a_terminal(args: List[str], cwd: Path, term: str) -> Tuple[int, str]:
    """Run the CLI with its stdout and stderr on a real pseudo-terminal."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": term}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [str(BIN / "copera-secretscan"), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.parametrize(
    ("term", "args", "coloured"),
    [
        ("xterm", [], True),
        ("dumb", [], False),
        ("dumb", ["--color"], True),
    ],
)
def test_a_real_dumb_terminal_gets_no_escape_sequences(
    term: str, args: List[str], coloured: bool, tmp_path: Path
) -> None:
    (tmp_path / "app.env").write_text(f"TOKEN={make_token('cp_pat_', 32, seed=3)}\n")
    code, out = on_a_terminal(["scan", *args, "app.env"], tmp_path, term)
    assert code == 1
    assert "Copera Personal Access Token" in out
    assert ("\033[" in out) is coloured
