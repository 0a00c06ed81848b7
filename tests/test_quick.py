"""The lean hook check: the anchor search, where the config may be, and its argument subset."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from copera_secretscan import console, quick
from copera_secretscan.cli.args import option_arity
from copera_secretscan.cli.main import scan
from copera_secretscan.config.locate import find_config
from copera_secretscan.models import ScanResult
from copera_secretscan.report import ReportOptions, writer
from copera_secretscan.sources import git, gitenv


@pytest.mark.parametrize("split", range(1, 4))
def test_anchor_split_across_reads_is_seen(monkeypatch: pytest.MonkeyPatch, split: int) -> None:
    monkeypatch.setattr(quick, "BLOCK", split)
    data = b"abcd cp_pat_xyz"
    assert quick.stream_clean(io.BytesIO(data).read) is False
    assert quick.stream_clean(io.BytesIO(data).read, len(data)) is False
    assert quick.stream_clean(io.BytesIO(b"abcd cp-pat_xyz").read, 15) is True


def test_short_stream_and_utf16_are_not_clean() -> None:
    assert quick.stream_clean(io.BytesIO(b"hello").read, 6) is False  # one byte missing
    assert quick.stream_clean(io.BytesIO(b"hello").read, 5) is True
    assert quick.stream_clean(io.BytesIO(b"\xff\xfeh\x00i\x00").read) is False
    assert quick.stream_clean(io.BytesIO(b"").read, 0) is True


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
    assert not quick.config_may_apply(str(root / "a" / "b"))
    (root / "pyproject.toml").write_text('[tool."copera-secretscan"]\n')
    assert quick.config_may_apply(str(root / "a" / "b"))
    assert quick.config_may_apply(str(tmp_path))  # no repository: the cwd's config counts


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
    assert quick.config_may_apply(str(tmp_path)) is False


def test_a_pyproject_with_our_table_or_broken_toml_takes_the_full_scanner(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool."copera-secretscan"]\nmin_length = 20\n')
    assert quick.config_may_apply(str(tmp_path)) is True
    (tmp_path / "pyproject.toml").write_text("[tool]\ncopera-secretscan = {{ broken\n")
    assert quick.config_may_apply(str(tmp_path)) is True


# --- one argument grammar ---------------------------------------------------------------------


def test_every_option_of_the_subset_is_a_scan_option_with_the_same_arity() -> None:
    """The lean check reads its subset with the CLI's grammar; the subset cannot drift from it."""
    full = option_arity(scan, click.Context(scan, info_name="scan"))
    assert {spelling: full.get(spelling) for spelling in quick.SUBSET} == quick.SUBSET


@pytest.mark.parametrize(
    ("args", "paths"),
    [
        (["-q", "a.py"], ("a.py",)),
        (["--quiet", "--", "-q"], ("-q",)),  # after --, a name
        (["--baseline", "base.json", "a.py"], ("a.py",)),
        (["--baseline=base.json", "a.py"], ("a.py",)),
        (["--staged"], ()),
        ([], ()),  # the index
    ],
)
def test_the_subset_is_answered_by_the_lean_check(
    args: list[str], paths: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "base.json").write_text("{}")
    found = quick.plan(args)
    assert found is not None and found.paths == paths


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "json", "a.py"],  # another option
        ["-qf", "json", "a.py"],  # a cluster the subset knows only part of
        ["--quiet=yes", "a.py"],  # a flag given a value: click refuses it
        ["--baseline"],  # no value
        ["--baseline", "absent.json", "a.py"],  # a missing baseline is the CLI's error
        ["--staged", "a.py"],  # the CLI refuses both
        ["-"],  # standard input
    ],
)
def test_anything_else_is_handed_to_the_full_cli(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert quick.plan(args) is None


def test_the_console_script_answers_only_scan_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert quick.plan(["--staged", "-q"], staged_only=True) is not None
    assert quick.plan(["a.py"], staged_only=True) is None  # `scan a.py` is the full CLI's
    assert quick.plan([], staged_only=True) is None  # `scan` walks the directory


def test_the_clean_line_is_the_text_reports(tmp_path: Path) -> None:
    result = ScanResult(findings=(), files=3)
    assert writer("text")(result, ReportOptions()).strip() == console.clean_line(3)


def _disguises(token: str) -> dict[str, bytes]:
    """The token in every disguise the full scanner decodes (one file's bytes each)."""
    import base64
    import gzip

    raw = token.encode()
    under = lambda escape: token.replace("_", escape).encode()  # noqa: E731
    every = lambda form: "".join(form(char) for char in token).encode()  # noqa: E731
    return {
        **{f"base64 at {n}": base64.b64encode(b" " * n + raw) for n in range(3)},
        "base64url": base64.urlsafe_b64encode(raw),
        "json": under("\\u005f"),
        "json all": every(lambda char: f"\\u{ord(char):04x}"),
        "c": under("\\x5f"),
        "octal": under("\\137"),
        "percent": under("%5F"),
        "percent all": every(lambda char: f"%{ord(char):02X}"),
        "entity": under("&#95;"),
        "entity all": every(lambda char: f"&#{ord(char)};"),
        "named entity": under("&lowbar;"),
        "markdown": under("\\_"),
        "quoted-printable": under("=5F"),
        "hex dump": raw.hex().encode(),
        "bytea": b"\\x" + raw.hex().encode(),
        **{codec: f"t={token}\n".encode(codec) for codec in ("utf-16-le", "utf-16-be")},
        **{codec: f"t={token}\n".encode(codec) for codec in ("utf-32-le", "utf-32-be")},
        "gzip": gzip.compress(b"t=" + raw),
    }


@pytest.mark.parametrize("kind", sorted(_disguises("cp_pat_x")))
def test_the_lean_check_never_calls_clean_what_the_full_scan_finds(
    tmp_path: Path, kind: str
) -> None:
    """Each disguise the full scanner decodes is handed to it: the hook must not pass it."""
    from copera_secretscan.engine.rules import Ruleset
    from copera_secretscan.engine.scan import scan_bytes
    from copera_secretscan.models import Origin
    from tests.tokens import make_token

    data = _disguises(make_token("cp_pat_", seed=11))[kind]
    path = tmp_path / "leak.txt"
    whole_file = kind == "gzip" or kind.startswith("utf-")  # recognised by how a file starts
    path.write_bytes(data if whole_file else b"note: " + data + b"\n")
    assert not quick.file_clean(str(path)), kind
    if kind != "gzip":  # archives are expanded by the pipeline, not the engine
        assert scan_bytes(path.read_bytes(), Origin("leak.txt"), Ruleset()), kind


def test_the_lean_check_still_passes_plain_clean_text(tmp_path: Path) -> None:
    path = tmp_path / "clean.py"
    path.write_text("import os\n\nprint(os.getcwd())  # cp -r a b, 0x70\n")
    assert quick.file_clean(str(path))


# --- a harmless cp_: answered by the engine, without the CLI -----------------------------------

HARMLESS = (
    "import socket\n"
    "sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # tcp_keepalive\n"
    "scp_target = 'host:/srv'; tcp_nodelay = True\n"
    "PLACEHOLDER = 'cp_pat_your_token_here'\n"
)


def _escaped_after_the_prefix(token: str) -> dict[str, str]:
    """A plain ``cp_`` whose kind letters or body an escape continues: plain_anchor's case."""
    kind, body = token[3:7], token[7:]
    return {
        "json": f"cp_{kind[:3]}\\u005f{body}",
        "c": f"cp_{kind}{body[:4]}\\x{ord(body[4]):02x}{body[5:]}",
        "percent": f"cp_{kind[:3]}%5F{body}",
    }


@pytest.mark.parametrize(
    "text",
    [
        "tcp_keepalive = 1\n",
        "scp_ a b; xcp_",
        "cp_",  # a prefix cut off by the end of the file
        "cp_pat_short\n",  # too short to be a token
        HARMLESS,
        "\n".join(f"tcp_{n}" for n in range(5000)),
    ],
)
def test_the_engine_dismisses_a_harmless_cp(tmp_path: Path, text: str) -> None:
    from copera_secretscan.engine.rules import Ruleset
    from copera_secretscan.engine.scan import scan_bytes
    from copera_secretscan.models import Origin

    path = tmp_path / "harmless.py"
    path.write_text(text)
    assert not quick.stream_clean(io.BytesIO(text.encode()).read)  # an anchor is there,
    assert quick.file_clean(str(path))  # and the engine dismisses it,
    assert scan_bytes(text.encode(), Origin("harmless.py"), Ruleset()) == []  # as a scan does


@pytest.mark.parametrize("kind", ["plain", "json", "c", "percent"])
def test_a_token_near_a_harmless_cp_goes_to_the_full_scanner(tmp_path: Path, kind: str) -> None:
    from copera_secretscan.engine.rules import Ruleset
    from copera_secretscan.engine.scan import scan_bytes
    from copera_secretscan.models import Origin
    from tests.tokens import make_token

    token = make_token("cp_pat_", 32, seed=41)
    shown = token if kind == "plain" else _escaped_after_the_prefix(token)[kind]
    data = f"{HARMLESS}KEY = '{shown}'\n".encode()
    path = tmp_path / "leak.py"
    path.write_bytes(data)
    assert not quick.file_clean(str(path)), kind
    assert not quick.dismissed(data)
    assert scan_bytes(data, Origin("leak.py"), Ruleset()), kind


def test_what_the_lean_check_cannot_read_alike_goes_to_the_full_scanner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not quick.dismissed(b"\xef\xbb\xbftcp_keepalive\n")  # the scan starts after a BOM
    monkeypatch.setattr(quick, "HELD", 64)
    big = b"tcp_keepalive\n" * 10
    assert not quick.stream_harmless(io.BytesIO(big).read)  # too big to hold: the CLI streams it
    assert quick.stream_harmless(io.BytesIO(big[:56]).read)
    assert quick.stream_harmless(io.BytesIO(b"x" * 200).read)  # no anchor: nothing to hold


def test_the_lean_ruleset_is_the_full_clis_without_a_config() -> None:
    from copera_secretscan.config.settings import Settings
    from copera_secretscan.engine.rules import Ruleset

    assert Settings().ruleset() == Ruleset()


@pytest.mark.parametrize("quiet", [False, True])
def test_a_harmless_cp_passes_as_the_full_cli_says(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    quiet: bool,
) -> None:
    from copera_secretscan.cli.main import main as cli_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    (tmp_path / "net.py").write_text(HARMLESS)
    (tmp_path / "other.py").write_text("x = 1\n")
    args = [*(["-q"] if quiet else []), "net.py", "other.py"]
    assert quick.answer(args, staged_only=False) == 0  # the lean check answered
    lean = capsys.readouterr()
    assert cli_main(["scan", *args]) == 0
    full = capsys.readouterr()
    assert (lean.out, lean.err) == (full.out, full.err)
    assert lean.out == ("" if quiet else "No Copera tokens found (2 files scanned).\n")


def test_a_token_next_to_a_harmless_cp_is_reported_as_the_full_cli_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from copera_secretscan.cli.main import main as cli_main
    from tests.tokens import make_token

    monkeypatch.chdir(tmp_path)
    token = make_token("cp_key_", 40, seed=42)
    (tmp_path / "net.py").write_text(HARMLESS)
    (tmp_path / "leak.py").write_text(f"{HARMLESS}KEY = '{token}'\n")
    assert quick.answer(["net.py", "leak.py"], staged_only=False) is None  # handed over
    assert quick.hook_main(["net.py", "leak.py"]) == 1
    from_hook = capsys.readouterr()
    assert cli_main(["scan", "net.py", "leak.py"]) == 1
    full = capsys.readouterr()
    assert (from_hook.out, from_hook.err) == (full.out, full.err)
    assert "leak.py:5:8" in from_hook.out and token not in from_hook.out


def test_every_escape_starts_with_an_introducer() -> None:
    """escape_may_continue's premise: each escape family (and the soft line break) starts with
    a byte of ESCAPE_INTRODUCERS, so a run that ends on no such byte holds no escape."""
    from copera_secretscan.engine import unescape
    from copera_secretscan.engine.decoding import ESCAPE_INTRODUCERS

    patterns = [pattern for pattern, _ in unescape._INTRODUCERS] + [unescape._SOFT_BREAK]
    for pattern in patterns:
        for byte in range(256):
            escaped = any(pattern.match(bytes([byte]) + tail) for tail in _ESCAPE_TAILS)
            assert not escaped or byte in ESCAPE_INTRODUCERS, (pattern.pattern, bytes([byte]))


_ESCAPE_TAILS = (b"u005f", b"x5f", b"137", b"_", b"5F", b"#95;", b"#x5f;", b"lowbar;", b"\n")


@pytest.mark.parametrize(
    "text",
    ["tcp_keepalive=10\n", "tcp_keepalive%20x", "scp_x\\n", "tcp_a&#95;b", "cp_pat\\u005fAb"],
)
def test_an_escape_after_a_plain_run_is_seen(text: str) -> None:
    assert quick.escape_may_continue(text.encode())


def test_a_run_without_an_escape_after_it_loads_no_decoder() -> None:
    assert not quick.escape_may_continue(b"tcp_keepalive = 1\nscp_x\n" + b"cp_" * 100_000)


def _leaky_tree(root: Path) -> str:
    """A tree whose tokens the report must name: plain, in base64, in an odd name, CRLF."""
    import base64

    from tests.tokens import make_token

    token = make_token("cp_pat_", 36, seed=1402)
    (root / "sub dir").mkdir()
    (root / "sub dir" / "naïve café.env").write_bytes(f"TOKEN={token}\r\n".encode())
    (root / "k8s.yaml").write_text(f"data:\n  t: {base64.b64encode(token.encode()).decode()}\n")
    (root / "clean.py").write_text("x = 1\n")
    (root / "notes.txt").write_text(f"tcp_keepalive\n{make_token('cp_oat_', 40, seed=1403)}\n")
    return token


@pytest.mark.parametrize("pre_commit", [False, True])
@pytest.mark.parametrize("args", [["scan"], ["scan", "-q", "."], ["scan", "sub dir", "k8s.yaml"]])
def test_a_walk_with_findings_is_reported_by_the_lean_path_as_the_full_cli_does(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    pre_commit: bool,
) -> None:
    from copera_secretscan.cli.main import main as cli_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    if pre_commit:
        monkeypatch.setenv("PRE_COMMIT", "1")
    else:
        monkeypatch.delenv("PRE_COMMIT", raising=False)
    token = _leaky_tree(tmp_path)
    scan = quick.plan(args[1:])
    assert scan is not None
    ready = quick.walked(scan)
    assert ready is not None and ready.findings
    assert quick.said(ready, quiet="quiet" in scan.options) == 1  # said here, without the CLI
    lean = capsys.readouterr()
    assert cli_main(args) == 1
    full = capsys.readouterr()
    assert (lean.out, lean.err) == (full.out, full.err)
    assert "naïve café.env:1:" in lean.out and token not in lean.out


def test_a_walk_with_a_problem_or_a_warning_goes_to_the_full_cli() -> None:
    from copera_secretscan.models import Problem

    assert (
        quick.said(ScanResult(findings=(), files=1, problems=(Problem("a", "b"),)), False) is None
    )
    assert quick.said(ScanResult(findings=(), files=1, warnings=("w",)), False) is None


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp1252"])
def test_a_report_stdout_cannot_encode_is_written_as_the_full_cli_writes_it(
    tmp_path: Path, encoding: str
) -> None:
    """A report whose file name or "…" the output's encoding cannot take (``PYTHONIOENCODING``,
    a Windows pipe in cp1252): no traceback, exit 1 as the scan found, and the lean path
    writes what the full CLI writes (click re-wraps an ASCII stdout; the others escape)."""
    token = _leaky_tree(tmp_path)
    env = {**os.environ, "PYTHONIOENCODING": encoding, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    env.pop("PRE_COMMIT", None)
    runs = [
        subprocess.run(
            [sys.executable, "-m", "copera_secretscan", "scan", *extra, "."],
            cwd=tmp_path,
            env=env,
            capture_output=True,
        )
        for extra in ([], ["--no-color"])  # the lean path, and the full CLI alone
    ]
    lean, full = runs
    assert (lean.returncode, full.returncode) == (1, 1), lean.stderr.decode(errors="replace")
    assert lean.stderr == full.stderr == b""
    assert lean.stdout == full.stdout
    shown = "utf-8" if encoding == "ascii" else encoding  # click's UTF-8 for an ASCII stdout
    assert "naïve café.env:1:".encode(shown) in lean.stdout
    assert token.encode() not in lean.stdout
