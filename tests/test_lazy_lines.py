"""Lines of a stream are counted once, as its reads return (issue 14, item 5), and give exactly
the positions of counting each window: across read and window boundaries, with CRLF, for a
token at the very end and a file without a final newline, for plain and disguised tokens."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Callable, List

from hypothesis import given, settings
from hypothesis import strategies as st

from copera_secretscan import pipeline as scanner
from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.positions import Cursor, Tally
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.models import CHUNK_SIZE, Origin
from copera_secretscan.sources import files as sources
from tests.tokens import make_token

RULESET = Ruleset()
FILLER = st.sampled_from([b"\n", b"\r\n", b"a", b" ", "é".encode(), "€".encode(), b"\xff", b"\x00"])
Place = tuple  # (line, column, end_line, end_column)


def positions(data: bytes, chunk_size: int, name: str = "x") -> List[Place]:
    found = engine.scan_stream(io.BytesIO(data).read, Origin(name), RULESET, chunk_size)
    return [(f.line, f.column, f.end_line, f.end_column) for f in found]


def whole(data: bytes, name: str = "x") -> List[Place]:
    """Positions from one window holding all of ``data``: nothing to count between windows."""
    return positions(data, len(data) + 1, name)


def short_reads(data: bytes, size: int) -> Callable[[int], bytes]:
    """A reader that never returns more than ``size`` bytes (a pipe's reads)."""
    stream = io.BytesIO(data)
    return lambda n: stream.read(min(n, size))


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(st.lists(FILLER, max_size=300).map(b"".join), st.integers(0, 50)), max_size=12
    ),
    chunk_size=st.integers(16, 2048),
    bom=st.booleans(),
)
def test_counting_as_the_reads_return_matches_one_window(
    pieces: list, chunk_size: int, bom: bool
) -> None:
    data = b"\xef\xbb\xbf" if bom else b""
    for piece in pieces:
        token = make_token("cp_key_", 24, seed=piece).encode() if isinstance(piece, int) else b""
        data += b" " + token + b" " if token else piece
    assert positions(data, chunk_size) == whole(data)


@settings(max_examples=60, deadline=None)
@given(
    before=st.lists(FILLER, max_size=400).map(b"".join),
    read_size=st.integers(1, 700),
    chunk_size=st.integers(16, 1024),
)
def test_short_reads_give_the_same_lines(before: bytes, read_size: int, chunk_size: int) -> None:
    """Reads shorter than asked for: the tally's marks still fall where windows end."""
    token = make_token("cp_oat_", 40, seed=7).encode()
    data = before + b"\r\nk=" + token + b"\r\n" + before + b"\n" + token
    found = engine.scan_stream(short_reads(data, read_size), Origin("x"), RULESET, chunk_size)
    assert [(f.line, f.column, f.end_line, f.end_column) for f in found] == whole(data)


def test_a_late_token_is_placed_from_one_read_of_the_stream() -> None:
    token = make_token("cp_pat_", 32, seed=2)
    data = "é\n".encode() * 200_000 + f"x {token}\n".encode()
    asked: List[int] = []
    stream = io.BytesIO(data)

    def read(size: int) -> bytes:
        piece = stream.read(size)
        asked.append(len(piece))
        return piece

    [finding] = engine.scan_stream(read, Origin("x"), RULESET, 8192)
    assert (finding.line, finding.column) == (200_001, 3)
    assert sum(asked) == len(data)  # every byte read once: no second pass to count lines


def test_a_token_across_a_read_boundary_with_crlf_lines() -> None:
    token = make_token("cp_key_", 32, seed=5).encode()
    head = b"ab\r\n" * 1000  # 4,000 bytes: the boundary at 4,096 cuts the token
    data = head + b"x" * 90 + b" " + token + b"\r\nend\r\n"
    assert 4096 - len(token) < data.index(token) < 4096
    assert positions(data, 4096) == whole(data) == [(1001, 92, 1001, 92 + len(token))]


def test_a_token_at_the_very_end_without_a_final_newline() -> None:
    token = make_token("cp_pat_", 40, seed=6).encode()
    data = b"line\n" * 50_000 + b"last=" + token
    expected = [(50_001, 6, 50_001, 6 + len(token))]
    assert positions(data, 8192) == positions(data, 1000) == whole(data) == expected


def test_a_file_without_a_final_newline_has_its_last_line_counted(tmp_path: Path) -> None:
    """Through the file source: windows of CHUNK_SIZE, read ahead by a thread."""
    token = make_token("cp_oat_", 40, seed=8)
    path = tmp_path / "big.txt"
    line = "ü" * 60 + "\r\n"  # UTF-8 and CRLF: columns count characters, not bytes
    count = CHUNK_SIZE * 2 // len(line.encode()) + 7
    path.write_bytes((line * count + f"k {token}").encode())
    scan = scanner.scan_file(sources.FileTarget(str(path), "big.txt"), RULESET)
    assert [(f.line, f.column) for f in scan.findings] == [(count + 1, 3)]


def test_a_token_straddling_the_window_boundary_of_a_large_file(tmp_path: Path) -> None:
    token = make_token("cp_pat_", 32, seed=9)
    path = tmp_path / "big.log"
    lines = ["y" * 99 + "\n"] * (CHUNK_SIZE // 100)  # 1,048,500 bytes
    prefix = "".join(lines) + "z" * (CHUNK_SIZE - 10 - CHUNK_SIZE // 100 * 100) + " "
    path.write_text(prefix + token + "\n" + "tail\n" * 300_000)  # the token starts 10 bytes short
    assert len(prefix.encode()) == CHUNK_SIZE - 9
    scan = scanner.scan_file(sources.FileTarget(str(path), "big.log"), RULESET)
    column = len(prefix) - len("".join(lines)) + 1
    assert [(f.line, f.column) for f in scan.findings] == [(len(lines) + 1, column)]


def test_a_disguised_token_late_in_a_stream_takes_its_line_from_the_same_count() -> None:
    token = make_token("cp_pat_", 32, seed=10)
    hidden = base64.b64encode(f"key: {token}".encode())
    data = b"filler line\r\n" * 120_000 + b"secret: " + hidden + b"\n" + b"more\n" * 1000
    found = list(engine.scan_stream(io.BytesIO(data).read, Origin("x.yaml"), RULESET, 65536))
    assert [(f.line, f.column, f.encoding) for f in found] == [(120_001, 9, ("base64",))]
    assert positions(data, 65536, "x.yaml") == whole(data, "x.yaml")


def test_utf16_input_counts_its_own_lines() -> None:
    """The transcoding's offsets do not map back to the input: it counts its own windows."""
    token = make_token("cp_pat_", 32, seed=3)
    data = ("line\n" * 5000 + f"T={token}\n").encode("utf-16")
    assert positions(data, 4096) == whole(data) == [(5001, 3, 5001, 3 + len(token))]


def test_large_file_on_disk_reports_exact_lines(tmp_path: Path) -> None:
    token = make_token("cp_oat_", 40, seed=4)
    path = tmp_path / "big.log"
    head = "ü" * 100 + "\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(head * 30_000)  # ~6 MB: several windows
        handle.write(f"ab {token}\n")
        handle.write(head * 30_000)
        handle.write(f"{token}")
    scan = scanner.scan_file(sources.FileTarget(str(path), "big.log"), RULESET)
    assert [(f.line, f.column) for f in scan.findings] == [(30_001, 4), (60_002, 1)]


def test_a_cursor_without_the_tally_mark_counts_for_itself() -> None:
    """A window that does not end where a read ended (never in the engine) is still right."""
    tally = Tally()
    read = tally.tap(io.BytesIO(b"a\nb\nc\nd\n").read)
    window = read(8)
    cursor = Cursor(tally)
    cursor.advance(window[:6], 5)  # ends at 6: no read ended there
    assert (cursor.line, cursor.column_chars, cursor.offset) == (3, 1, 5)
    cursor.advance(window[5:], 2)  # ends at 8, a mark: the line comes from the tally
    assert (cursor.line, cursor.column_chars, cursor.offset) == (4, 1, 7)
