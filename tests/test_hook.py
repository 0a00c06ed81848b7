"""The pre-commit entry point: same answers as `scan FILES`, without loading the world."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from copera_secretscan import quick
from copera_secretscan.cli.main import main as cli_main
from copera_secretscan.engine.rules import Ruleset
from tests.tokens import make_token


def fast_path_files(args: list[str]) -> list[str] | None:
    """The files the lean hook check would read itself (``[]``: the index); None: the CLI."""
    found = quick.plan(args)
    return None if found is None else list(found.paths)


def test_fast_path_anchors_are_the_engines() -> None:
    assert set(Ruleset().anchors()) == {quick.ANCHOR}
    assert quick.stream_clean(io.BytesIO(b"x" + quick.ANCHOR).read) is False  # that very anchor


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    names = []
    for i in range(5):
        (tmp_path / f"m{i}.py").write_text(f"x = {i}\n" * 200)
        names.append(f"m{i}.py")
    return names


def test_clean_files_match_scan_output(
    files: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert quick.hook_main(files) == 0
    fast = capsys.readouterr().out
    assert cli_main(["scan", *files]) == 0
    assert fast == capsys.readouterr().out


def test_token_gives_scan_output_and_exit_1(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_pat_", 32, seed=31)
    (tmp_path / "m3.py").write_text(f"x = 1\nTOKEN = '{token}'\n")
    assert quick.hook_main(files) == 1
    from_hook = capsys.readouterr().out
    assert cli_main(["scan", *files]) == 1
    assert from_hook == capsys.readouterr().out
    assert "m3.py:2:10" in from_hook


def test_quiet_is_silent(files: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert quick.hook_main(["--quiet", *files]) == 0
    assert capsys.readouterr().out == ""


def test_anchor_split_across_read_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = make_token("cp_oat_", 32, seed=32)
    block = 1 << 20
    data = b"a" * (block - 2) + b" " + token.encode()  # "cp_" straddles the first read block
    (tmp_path / "big.bin").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    assert fast_path_files(["big.bin"]) == ["big.bin"]
    assert quick.file_clean("big.bin") is False


@pytest.mark.parametrize(
    "args",
    [["--format", "json", "a.py"], ["-"], ["--", "-weird-name.py"]],
)
def test_options_and_specials_decide_the_path(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    expected = ["-weird-name.py"] if args[0] == "--" else None
    assert fast_path_files(args) == expected


def test_config_file_sends_the_hook_to_the_full_scanner(files: list[str], tmp_path: Path) -> None:
    (tmp_path / ".copera-secretscan.toml").write_text("min_length = 20\n")
    assert fast_path_files(files) is None
    (tmp_path / ".copera-secretscan.toml").unlink()
    (tmp_path / "pyproject.toml").write_text("[tool.copera-secretscan]\nmin_length = 20\n")
    assert fast_path_files(files) is None


def test_utf16_and_non_regular_files_are_not_fast_pathed(tmp_path: Path) -> None:
    token = make_token("cp_pat_", 32, seed=33)
    (tmp_path / "u16.txt").write_bytes(("T=" + token + "\n").encode("utf-16"))
    assert quick.file_clean(str(tmp_path / "u16.txt")) is False
    assert quick.file_clean(str(tmp_path)) is False  # a directory goes to the full scanner
    assert quick.file_clean(str(tmp_path / "missing")) is False


def test_clean_run_imports_no_third_party_module(files: list[str], tmp_path: Path) -> None:
    probe = (
        "import sys; from copera_secretscan.quick import hook_main; "
        "code = hook_main(sys.argv[1:]); "
        "heavy = sorted(m for m in ('click', 'regex', 'pathspec', 'json', 'dataclasses') "
        "if m in sys.modules); print(code, heavy)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe, *files],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.splitlines()[-1] == "0 []"


def test_missing_baseline_is_reported_even_when_files_are_clean(
    files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fast_path_files(["--baseline", "absent.json", *files]) is None
    assert quick.hook_main(["--baseline", "absent.json", *files]) == 2
    assert "absent.json" in capsys.readouterr().err
    (tmp_path / "present.json").write_text("{}")
    assert fast_path_files(["--baseline", "present.json", *files]) == files


ACME = 'rules = [{ id = "acme", prefix = "acme_live_" }]\n'


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".copera-secretscan.toml", ACME),
        ("pyproject.toml", f"[tool.'copera-secretscan']\n{ACME}"),
        ("pyproject.toml", f"[tool]\ncopera-secretscan = {{ {ACME.strip()} }}\n"),
    ],
)
def test_hook_reads_the_root_config_from_a_subdirectory(
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
) -> None:
    """As the full CLI does: from ``src/`` the root's custom rules still apply."""
    (repo / name).write_text(text)
    (repo / "src").mkdir()
    (repo / "src" / "a.env").write_text("ACME=acme_live_Xq7Lp2Rt9Vw4Zk8Mn3Bj\n")
    monkeypatch.chdir(repo / "src")
    assert fast_path_files(["a.env"]) is None
    assert quick.hook_main(["a.env"]) == 1
    assert "acme" in capsys.readouterr().out


def test_hook_interrupted_while_handing_over_is_one_line_and_130(
    files: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(argv: list[str]) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("copera_secretscan.cli.main.hook_main", interrupted)
    assert quick.hook_main(["--format", "json", *files]) == 130
    assert capsys.readouterr() == ("", "copera-secretscan: interrupted\n")


def stage(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)
    subprocess.run(["git", "add", name], cwd=repo, check=True)


@pytest.mark.parametrize("args", [[], ["-q"], ["--"], ["--format", "json"], ["--no-color"]])
def test_the_hook_given_no_file_names_scans_the_index(
    repo: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``pass_filenames: false`` (or only options in ``args``) must not pass vacuously."""
    token = make_token("cp_pat_", 32, seed=34)
    stage(repo, "staged.py", f"TOKEN = '{token}'\n")
    (repo / "staged.py").write_text("TOKEN = None\n")  # the disk is clean; the commit is not

    assert quick.hook_main(args) == 1
    assert "staged.py" in capsys.readouterr().out


def test_the_hook_given_no_file_names_and_a_clean_index_passes_on_the_lean_path(
    repo: Path,
) -> None:
    stage(repo, "a.py", "x = 1\n")
    stage(repo, "b.py", "y = 2\n")
    probe = (
        "import sys; from copera_secretscan.quick import hook_main; code = hook_main([]); "
        "print(code, 'click' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True)
    assert proc.stdout.splitlines() == ["No Copera tokens found (2 files scanned).", "0 False"]


def test_the_hook_given_no_file_names_outside_git_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.py").write_text("x = 1\n")
    assert quick.hook_main([]) == 2
    assert "No Copera tokens found" not in capsys.readouterr().out


def test_the_hook_given_a_git_mode_scans_that_not_the_index(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_key_", 32, seed=35)
    stage(repo, "old.py", f"KEY = '{token}'\n")
    subprocess.run(["git", "commit", "-qm", "old"], cwd=repo, check=True)
    stage(repo, "new.py", "x = 1\n")
    assert quick.hook_main(["--git", "HEAD"]) == 1
    assert "old.py" in capsys.readouterr().out  # what HEAD holds, not what is staged


def test_the_hook_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    """The lean check opens without blocking and checks the type of what it opened."""
    os.mkfifo(tmp_path / "pipe")  # no writer: a blocking open would wait forever
    swapped = "import os.path; os.path.isfile = lambda path: True; "  # a FIFO after the check
    for setup in ("", swapped):
        probe = f"{setup}from copera_secretscan import quick; print(quick.file_clean('pipe'))"
        proc = subprocess.run(
            [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=30
        )
        assert proc.stdout == "False\n", proc.stderr
    hooked = subprocess.run(
        [Path(sys.executable).parent / "copera-secretscan-hook", "pipe"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert hooked.returncode == 2
    assert "pipe: FIFO with no writer: not read" in hooked.stderr
