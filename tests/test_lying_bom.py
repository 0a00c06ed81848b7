"""A byte-order mark describes at most the bytes after it: no BOM may hide a token.

PowerShell's ``>`` writes ``FF FE`` and UTF-16LE text; Git Bash's ``>>`` then appends plain
ASCII to the same file. The raw bytes are always searched, and a stream that starts with a
UTF-16 BOM is searched a second time as UTF-16, so both the UTF-16 part and the ASCII tail are
seen, in every mode (files, the index, history).
"""

from __future__ import annotations

import codecs
import io
import string
from pathlib import Path
from typing import List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan.cli.main import main
from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.heuristics import why_not_secret
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.models import Finding, Origin
from tests.conftest import commit_all, git
from tests.tokens import make_token

ORIGIN = Origin("p")
RULESET = Ruleset()
LE, BE, UTF8 = codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8
ASCII_TOKEN = make_token("cp_pat_", 32, seed=41)
WIDE_TOKEN = make_token("cp_key_", 32, seed=42)


def scan(data: bytes) -> List[Finding]:
    return engine.scan_bytes(data, ORIGIN, RULESET)


def stream(data: bytes, chunk_size: int) -> List[Finding]:
    return list(engine.scan_stream(io.BytesIO(data).read, ORIGIN, RULESET, chunk_size))


def powershell_then_git_bash(encoding: str = "utf-16-le") -> bytes:
    """``cmd > f`` in Windows PowerShell 5, then ``echo … >> f`` in Git Bash."""
    bom = LE if encoding.endswith("le") else BE
    wide = f"Name  Value\r\n----  -----\r\nkey   {WIDE_TOKEN}\r\n".encode(encoding)
    return bom + wide + f"export COPERA_TOKEN={ASCII_TOKEN}\n".encode()


def places(found: List[Finding]) -> List[Tuple[str, int, int, int, int]]:
    return [(f.secret, f.line, f.column, f.end_line, f.end_column) for f in found]


# --- the engine ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_ascii_appended_to_utf16_text_is_searched_as_well(encoding: str) -> None:
    found = scan(powershell_then_git_bash(encoding))
    assert sorted(f.secret for f in found) == sorted([ASCII_TOKEN, WIDE_TOKEN])


def test_the_ascii_tail_has_the_raw_streams_line_and_column() -> None:
    """Raw positions count raw bytes: the tail starts after the NUL of UTF-16LE's ``\\n``, so
    it is on line 4 and its first column is that NUL."""
    found = scan(powershell_then_git_bash())
    tail = next(f for f in found if f.secret == ASCII_TOKEN)
    column = len("\0export COPERA_TOKEN=") + 1
    assert (tail.line, tail.column, tail.end_column) == (4, column, column + len(ASCII_TOKEN))
    wide = next(f for f in found if f.secret == WIDE_TOKEN)
    assert (wide.line, wide.column) == (3, 7)  # the decoded text's place, as before


@pytest.mark.parametrize("bom", [LE, BE], ids=["FF FE", "FE FF"])
def test_a_bom_followed_by_nothing_but_ascii_hides_nothing(bom: bytes) -> None:
    data = bom + f"x = 1\ntoken = '{ASCII_TOKEN}'\n".encode()
    assert places(scan(data)) == [(ASCII_TOKEN, 2, 10, 2, 10 + len(ASCII_TOKEN))]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 64, 4096])
def test_both_readings_agree_however_the_stream_is_chunked(chunk_size: int) -> None:
    data = powershell_then_git_bash() * 3  # the ASCII tail is 60 bytes: UTF-16 stays aligned
    assert stream(data, chunk_size) == scan(data)
    assert [f.secret for f in scan(data)] == [WIDE_TOKEN, ASCII_TOKEN] * 3


def test_a_token_both_readings_see_at_the_same_place_is_reported_once() -> None:
    """It takes contrived bytes: 4-byte UTF-8 sequences are two UTF-16 code units but one raw
    character, so the raw ASCII token can land on the decoded one's line and column."""
    token = ASCII_TOKEN
    emoji = 2 * len(token) + 6  # makes the raw column of the second copy equal the first's
    data = LE + "😀".encode() * emoji + f" {token} ".encode("utf-16-le") + f" {token} ".encode()
    column = 2 * emoji + 2
    assert places(scan(data)) == [(token, 1, column, 1, column + len(token))]


def test_the_same_token_at_two_places_is_reported_at_both() -> None:
    data = LE + f"a {ASCII_TOKEN}\r\n".encode("utf-16-le") + f"{ASCII_TOKEN}\n".encode()
    assert [(f.line, f.column) for f in scan(data)] == [(1, 3), (2, 2)]


def test_a_lying_utf8_bom_hides_nothing_either() -> None:
    data = UTF8 + LE + f"x {ASCII_TOKEN}\n".encode()
    assert [(f.line, f.column) for f in scan(data)] == [(1, 5)]  # after FF FE: two columns


def test_a_large_stream_behind_a_bom_is_read_once_in_bounded_windows() -> None:
    """Two readings, one pass: every read is asked for at most one chunk, and the tail token
    past many chunks of UTF-16 is still found."""
    body = ("é" * 1000 + "\r\n").encode("utf-16-le") * 200  # ~400 KB of UTF-16
    data = LE + body + f"t={ASCII_TOKEN}\n".encode()
    source, sizes = io.BytesIO(data), []

    def read(size: int) -> bytes:
        sizes.append(size)
        return source.read(size)

    found = list(engine.scan_stream(read, ORIGIN, RULESET, chunk_size=8192))
    assert [(f.secret, f.line) for f in found] == [(ASCII_TOKEN, 201)]
    assert max(sizes) == 8192 and source.tell() == len(data)


# --- every stream shape: random segments behind any BOM ---------------------------------------

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
bodies = st.text(alphabet=string.ascii_letters + string.digits, min_size=16, max_size=48).filter(
    lambda body: why_not_secret(body) is None
)
tokens = st.tuples(st.sampled_from(["cp_pat_", "cp_key_", "cp_oat_"]), bodies).map("".join)
words = st.text(alphabet=string.ascii_letters + " .,=:\t", max_size=30)
wide_words = st.text(alphabet="ab =:\r\n\té日本語🎉Ω" + string.digits, max_size=30)
latin1 = st.text(alphabet=[chr(c) for c in range(0xA0, 0x100)], max_size=40)
# (kind, bytes, planted token or None). A token sits between spaces, so it is bounded
# whatever segment comes before or after it.
segments = st.one_of(
    st.tuples(st.just("ascii"), words, tokens, words).map(
        lambda t: ("ascii", f"{t[1]} {t[2]} {t[3]}\n".encode(), t[2])
    ),
    st.tuples(st.sampled_from(["utf-16-le", "utf-16-be"]), wide_words, st.none() | tokens).map(
        lambda t: (t[0], f"{t[1]} {t[2] or ''} ".encode(t[0]), t[2])
    ),
    latin1.map(lambda text: ("latin-1", text.encode("latin-1"), None)),
    st.binary(max_size=60).map(lambda raw: ("binary", raw.replace(b"cp_", b"cq_"), None)),
    st.binary(min_size=1, max_size=4).map(lambda raw: ("binary", raw * 4000, None)),  # > window
)
boms = st.sampled_from([b"", UTF8, LE, BE])
chunk_sizes = st.one_of(st.integers(1, 80), st.integers(64, 4096))


def expected_tokens(bom: bytes, parts: List[Tuple[str, bytes, Optional[str]]]) -> List[str]:
    """Every ASCII token, and the token of a UTF-16 segment right after a BOM that is true."""
    wanted = [token for kind, _, token in parts if kind == "ascii" and token]
    true_bom = {"utf-16-le": LE, "utf-16-be": BE}.get(parts[0][0]) if parts else None
    if bom and bom == true_bom and parts[0][2]:
        wanted.append(str(parts[0][2]))
    return wanted


@SETTINGS
@given(bom=boms, parts=st.lists(segments, max_size=6), chunk_size=chunk_sizes)
def test_no_bom_and_no_neighbour_hides_a_token(
    bom: bytes, parts: List[Tuple[str, bytes, Optional[str]]], chunk_size: int
) -> None:
    data = bom + b"".join(raw for _, raw, _ in parts)
    whole = scan(data)
    found = [f.secret for f in whole]
    for token in expected_tokens(bom, parts):
        assert token in found
    chunked = stream(data, chunk_size)
    assert chunked == whole
    assert [(f.line_text, f.prev_line_text) for f in chunked] == [
        (f.line_text, f.prev_line_text) for f in whole
    ]


@SETTINGS
@given(bom=boms, parts=st.lists(segments, max_size=4), tail=tokens)
def test_an_ascii_token_is_at_its_raw_line_and_column(
    bom: bytes, parts: List[Tuple[str, bytes, Optional[str]]], tail: str
) -> None:
    head = bom + b"".join(raw for _, raw, _ in parts) + b" "
    data = head + tail.encode() + b"\n"
    counted = head[len(UTF8) :] if bom == UTF8 else head  # a UTF-8 BOM is no character
    line_start = counted.rfind(b"\n") + 1
    column = len(counted[line_start:].decode("utf-8", "surrogateescape")) + 1
    want = (tail, counted.count(b"\n") + 1, column)
    assert want in [(f.secret, f.line, f.column) for f in scan(data)]


# --- end to end: a real repository ------------------------------------------------------------


def write_powershell_file(repo: Path) -> None:
    (repo / "out.txt").write_bytes(powershell_then_git_bash())


def test_scan_finds_the_ascii_tail_of_a_utf16_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_powershell_file(repo)
    code = main(["scan", "--format", "json", "out.txt"])
    out = capsys.readouterr().out
    assert code == 1
    assert '"line": 4' in out and '"line": 3' in out
    assert out.count('"rule_id"') == 2


def test_staged_finds_the_ascii_tail_of_a_utf16_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_powershell_file(repo)
    git(repo, "add", "out.txt")
    code = main(["scan", "--staged"])
    out = capsys.readouterr().out
    assert code == 1
    assert "out.txt:4:" in out and "out.txt:3:7" in out


def test_history_finds_the_ascii_tail_of_a_utf16_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_powershell_file(repo)
    commit_all(repo, "log output")
    (repo / "out.txt").unlink()
    commit_all(repo, "remove it")
    code = main(["scan", "--history"])
    out = capsys.readouterr().out
    assert code == 1
    assert "out.txt:4:" in out and "out.txt:3:7" in out


def test_the_hook_finds_the_ascii_tail_of_a_utf16_file(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from copera_secretscan import quick

    write_powershell_file(repo)
    assert quick.hook_main(["out.txt"]) == 1
    assert "out.txt:4:" in capsys.readouterr().out
