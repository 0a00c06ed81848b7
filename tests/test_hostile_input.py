"""A baseline or config file made of hostile bytes is one error line naming it, never a traceback.

Both files come from the repository, so from whoever last pushed to it. The parsers raise more
than their documented errors on such bytes: ``RecursionError`` on nesting thousands deep,
``ValueError`` from ``int()`` on a number of thousands of digits. Each spelling below goes
through every command that reads the file, including the hook's lean path; hypothesis then
feeds random bytes and random mutations of valid files, which may be accepted or refused but
must never crash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan import quick
from copera_secretscan.cli.main import main
from tests.conftest import git
from tests.tokens import make_token

BASELINE = ".copera-secretscan-baseline.json"
CONFIG = ".copera-secretscan.toml"
DEEP = 100_000
DIGITS = "9" * 100_000
SALT = "a" * 64
ENTRY = {"hash": "b" * 64, "path": "a.env", "rule_id": "copera-pat", "redacted": "cp_pat_x…"}
PROPERTIES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def baseline(**changes: object) -> str:
    return json.dumps({"version": 1, "salt": SALT, "entries": [], **changes})


def with_entry(**changes: object) -> str:
    return baseline(entries=[{**ENTRY, **changes}])


def one_error_line(code: int, err: str, name: str) -> None:
    assert code == 2, err
    assert err.startswith(f"copera-secretscan: error: {name}: "), err[:300]
    assert err.count("\n") == 1 and len(err) < 400, err[:300]


def never_a_crash(code: int, err: str) -> None:
    """Accepted (0/1, perhaps with warnings) or refused in one line (2); nothing else."""
    assert code in (0, 1, 2), err[:300]
    assert all(line.startswith("copera-secretscan: ") for line in err.splitlines()), err[:300]
    if code == 2:
        assert err.count("\n") == 1, err[:300]


@pytest.fixture
def leaky(repo: Path) -> Path:
    """A repository with a token, so every command reaches the file under test."""
    (repo / "a.env").write_text(f"T={make_token('cp_pat_', 32, seed=3)}\n")
    git(repo, "add", "a.env")
    return repo


# --- the baseline -----------------------------------------------------------------------------

HOSTILE_BASELINES: List[Tuple[str, bytes, str]] = [
    ("nested arrays", b"[" * DEEP + b"]" * DEEP, "invalid JSON: nested too deeply"),
    ("nested objects", b'{"a":' * DEEP + b"1" + b"}" * DEEP, "invalid JSON: nested too deeply"),
    ("huge version", f'{{"version": {DIGITS}}}'.encode(), "invalid JSON: number too long"),
    ("huge negative", f'{{"entries": [-{DIGITS}]}}'.encode(), "invalid JSON: number too long"),
    (
        "NUL in a string",
        b'{"salt": "a\x00b"}',
        "invalid JSON at line 1: Invalid control character at",
    ),
    (
        "NUL between values",
        b'{"version": 1\x00}',
        "invalid JSON at line 1: Expecting ',' delimiter",
    ),
    ("not UTF-8", b'{"salt": "caf\xe9"}', "not UTF-8 text"),
    ("UTF-16", '{"version": 1}'.encode("utf-16"), "not UTF-8 text"),
    ("empty", b"", "the file is empty"),
    ("blank", b" \n\t\n", "the file is empty"),
    (
        "duplicate key",
        b'{"version": 1, "version": 1}',
        "invalid JSON: the key 'version' appears twice",
    ),
    (
        "lone surrogate path",
        with_entry(path="\ud800").encode(),
        "entries[0].path: control character",
    ),
    (
        "escape in reason",
        with_entry(reason="\x1b[2J").encode(),
        "entries[0].reason: control character",
    ),
    (
        "C1 in rule id",
        with_entry(rule_id="copera\x9b").encode(),
        "entries[0].rule_id: control character",
    ),
    ("version 1.0", baseline(version=1.0).encode(), "unsupported version 1.0 (this"),
    ("version true", baseline(version=True).encode(), "unsupported version True (this"),
    ("version '1'", baseline(version="1").encode(), "unsupported version '1' (this"),
    ("version [1]", baseline(version=[1]).encode(), "unsupported version [1] (this"),
    (
        "version 1e0",
        b'{"version": 1e0, "salt": "", "entries": []}',
        "unsupported version 1.0 (this",
    ),
    ("huge version string", baseline(version="x" * 10**6).encode(), "unsupported version 'xxxx"),
]

BASELINE_COMMANDS: List[Tuple[str, Callable[[], int]]] = [
    ("scan", lambda: main(["scan", "--baseline", BASELINE, "a.env"])),
    ("hook", lambda: quick.hook_main(["--baseline", BASELINE, "a.env"])),
    ("update", lambda: main(["baseline", "update"])),
    ("audit", lambda: main(["baseline", "audit"])),
    ("audit report", lambda: main(["baseline", "audit", "--report"])),
]


@pytest.mark.parametrize(
    ("command", "run"), BASELINE_COMMANDS, ids=[c for c, _ in BASELINE_COMMANDS]
)
@pytest.mark.parametrize(
    ("data", "what"),
    [(d, w) for _, d, w in HOSTILE_BASELINES],
    ids=[n for n, _, _ in HOSTILE_BASELINES],
)
def test_a_hostile_baseline_is_one_line_naming_the_file(
    leaky: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    run: Callable[[], int],
    data: bytes,
    what: str,
) -> None:
    (leaky / BASELINE).write_bytes(data)
    code = run()
    err = capsys.readouterr().err
    one_error_line(code, err, BASELINE)
    assert err.startswith(f"copera-secretscan: error: {BASELINE}: corrupt baseline: {what}")
    assert (leaky / BASELINE).read_bytes() == data  # update refused it: nothing rewritten


def test_only_the_integer_1_is_a_version(leaky: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (leaky / BASELINE).write_text(baseline(version=1))
    assert main(["scan", "--baseline", BASELINE, "a.env"]) == 1
    assert capsys.readouterr().err == ""


def test_a_device_as_baseline_is_refused_not_read_forever(
    leaky: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "--baseline", "/dev/zero", "a.env"]) == 2
    assert capsys.readouterr().err == (
        "copera-secretscan: error: /dev/zero: baseline not a regular file (device or socket): "
        "not read\n"
    )


@pytest.fixture
def valid_baseline(leaky: Path, capsys: pytest.CaptureFixture[str]) -> bytes:
    """A real baseline with every optional key, as the base for mutations."""
    assert main(["baseline", "create"]) == 0
    doc = json.loads((leaky / BASELINE).read_text())
    doc["entries"][0].update(decision="leak", reason="INC-1: rotate", expires="2999-12-31")
    capsys.readouterr()
    return json.dumps(doc, indent=2).encode()


SIGNIFICANT = list(b'{}[]",:0123456789.eE+-\\u truefalsn\x00\xff\xc3\n\t')
# Runs no hand-written file has, and each parser's own failure modes: deep nesting, long numbers.
RUNS = [b"[" * 3000, b'{"a":' * 3000, b"a = [" * 3000, b"{a = " * 3000, b"9" * 5000, b"\\ud800"]


@st.composite
def mutations(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few bytes deleted, replaced or inserted where the grammar is sensitive.

    One edit in three puts a run that only hurts where a value starts (deep nesting, a long
    number) right after an ``=``, ``:``, ``[`` or ``,``, so those are tried often enough.
    """
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 2)) == 0:
            starts = [i + 1 for i, byte in enumerate(data) if byte in b"=:[,"] or [0]
            at, cut, new = draw(st.sampled_from(starts)), 0, draw(st.sampled_from(RUNS))
        else:
            at, cut = draw(st.integers(0, len(data))), draw(st.integers(0, 3))
            new = draw(st.binary(max_size=4) | st.lists(st.sampled_from(SIGNIFICANT)).map(bytes))
        data[at : at + cut] = new
    return bytes(data)


@PROPERTIES
@given(data=st.binary(max_size=300))
def test_random_bytes_as_a_baseline_never_crash(
    leaky: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    (leaky / BASELINE).write_bytes(data)
    code = main(["scan", "--baseline", BASELINE, "a.env"])
    never_a_crash(code, capsys.readouterr().err)


@PROPERTIES
@given(seed=st.data())
def test_mutated_baselines_never_crash_any_command(
    valid_baseline: bytes, capsys: pytest.CaptureFixture[str], seed: st.DataObject
) -> None:
    data = seed.draw(mutations(valid_baseline))
    for _, run in BASELINE_COMMANDS[:2] + BASELINE_COMMANDS[-1:]:
        Path(BASELINE).write_bytes(data)
        never_a_crash(run(), capsys.readouterr().err)


# --- the config ---------------------------------------------------------------------------

HOSTILE_TOML: List[Tuple[str, str, str]] = [
    ("nested arrays", "a = " + "[" * DEEP + "]" * DEEP, "invalid TOML: nested too deeply"),
    (
        "nested inline tables",
        "a = " + "{b = " * DEEP + "1" + "}" * DEEP,
        "invalid TOML: nested too deeply",
    ),
    ("huge integer", f"min_length = {DIGITS}", "invalid TOML: number too long"),
    ("huge integer in an array", f"a = [1, -{DIGITS}]", "invalid TOML: number too long"),
    ("NUL byte", "min_length = 20\x00", "invalid TOML: Expected newline or end of document"),
    ("NUL in a string", 'exclude = ["a\x00"]', "invalid TOML: Illegal character"),
    ("lone surrogate", 'exclude = ["\\ud800"]', "invalid TOML: Escaped character is not a Unicode"),
]

CONFIG_COMMANDS: List[Tuple[str, Callable[[], int]]] = [
    ("scan", lambda: main(["scan", "a.env"])),
    ("hook lean path", lambda: quick.hook_main(["clean.txt"])),
    ("staged lean path", lambda: quick.main(["scan", "--staged"])),
    ("config", lambda: main(["config"])),
    ("audit report", lambda: main(["baseline", "audit", "--report"])),
]


def write_config(repo: Path, where: str, text: str) -> str:
    """``text`` as the dedicated config, as our pyproject table, or beside it in a pyproject."""
    (repo / "clean.txt").write_text("nothing to see\n")
    if where == CONFIG:
        (repo / CONFIG).write_bytes(text.encode("utf-8", "surrogatepass"))
        return CONFIG
    head = (
        "[tool.copera-secretscan]\n"
        if where == "table"
        else "[project]\nname = 'copera-secretscan'\n"
    )
    (repo / "pyproject.toml").write_bytes((head + text + "\n").encode("utf-8", "surrogatepass"))
    return "pyproject.toml"


@pytest.mark.parametrize(("command", "run"), CONFIG_COMMANDS, ids=[c for c, _ in CONFIG_COMMANDS])
@pytest.mark.parametrize("where", [CONFIG, "table", "beside"])
@pytest.mark.parametrize(
    ("text", "what"), [(t, w) for _, t, w in HOSTILE_TOML], ids=[n for n, _, _ in HOSTILE_TOML]
)
def test_a_hostile_config_is_one_line_naming_the_file(
    leaky: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    run: Callable[[], int],
    where: str,
    text: str,
    what: str,
) -> None:
    name = write_config(leaky, where, text)
    code = run()
    err = capsys.readouterr().err
    one_error_line(code, err, name)
    assert err.startswith(f"copera-secretscan: error: {name}: {what}"), err[:300]


def test_a_config_that_is_not_utf8_is_one_line(
    leaky: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (leaky / CONFIG).write_bytes(b"exclude = ['caf\xe9']\n")
    assert quick.hook_main(["a.env"]) == 2
    assert (
        capsys.readouterr().err == f"copera-secretscan: error: {CONFIG}: config is not UTF-8 text\n"
    )


VALID_CONFIG = (
    b'min_length = 20\nexclude = ["vendor/**", "*.min.js"]\nallow_markers = ["nosecret"]\n'
    b'placeholders = ["example"]\n\n[[rules]]\nid = "acme"\nprefix = "acme_"\n'
    b'description = "ACME key"\n'
)


@PROPERTIES
@given(data=st.binary(max_size=300) | mutations(VALID_CONFIG))
def test_random_and_mutated_configs_never_crash(
    leaky: Path, capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    for name, prefix in ((CONFIG, b""), ("pyproject.toml", b"[tool.copera-secretscan]\n")):
        (leaky / name).write_bytes(prefix + data)
        never_a_crash(main(["scan", "a.env"]), capsys.readouterr().err)
        never_a_crash(quick.hook_main(["a.env"]), capsys.readouterr().err)
        (leaky / name).unlink()
