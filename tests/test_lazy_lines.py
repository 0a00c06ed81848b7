"""Lines counted lazily (re-read on demand) give exactly the positions of counting as we go."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from copera_secretscan import pipeline as scanner
from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.models import Origin
from copera_secretscan.sources import files as sources
from tests.tokens import make_token

RULESET = Ruleset()
FILLER = st.sampled_from([b"\n", b"\r\n", b"a", b" ", "é".encode(), "€".encode(), b"\xff", b"\x00"])


def positions(data: bytes, chunk_size: int, lazy: bool) -> list[tuple[int, int, int, int]]:
    reread = (lambda offset, size: data[offset : offset + size]) if lazy else None
    found = engine.scan_stream(io.BytesIO(data).read, Origin("x"), RULESET, chunk_size, reread)
    return [(f.line, f.column, f.end_line, f.end_column) for f in found]


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(
        st.one_of(st.lists(FILLER, max_size=300).map(b"".join), st.integers(0, 50)), max_size=12
    ),
    chunk_size=st.integers(16, 2048),
    bom=st.booleans(),
)
def test_lazy_counting_matches_eager_counting(pieces: list, chunk_size: int, bom: bool) -> None:
    data = b"\xef\xbb\xbf" if bom else b""
    for piece in pieces:
        token = make_token("cp_key_", 24, seed=piece).encode() if isinstance(piece, int) else b""
        data += b" " + token + b" " if token else piece
    assert positions(data, chunk_size, lazy=True) == positions(data, chunk_size, lazy=False)


def test_a_late_token_is_counted_by_rereading() -> None:
    token = make_token("cp_pat_", 32, seed=2)
    data = "é\n".encode() * 200_000 + f"x {token}\n".encode()
    calls = []

    def reread(offset: int, size: int) -> bytes:
        calls.append(size)
        return data[offset : offset + size]

    stream = io.BytesIO(data).read
    [finding] = engine.scan_stream(stream, Origin("x"), RULESET, 8192, reread)
    assert (finding.line, finding.column) == (200_001, 3)
    assert sum(calls) > 300_000  # the lines before the window were counted on demand


def test_utf16_input_is_never_reread_at_raw_offsets() -> None:
    token = make_token("cp_pat_", 32, seed=3)
    data = ("line\n" * 5000 + f"T={token}\n").encode("utf-16")
    assert (
        positions(data, 4096, lazy=True)
        == positions(data, 4096, lazy=False)
        == [(5001, 3, 5001, 3 + len(token))]
    )


def test_large_file_on_disk_reports_exact_lines(tmp_path: Path) -> None:
    token = make_token("cp_oat_", 40, seed=4)
    path = tmp_path / "big.log"
    head = "ü" * 100 + "\n"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(head * 30_000)  # ~6 MB: several windows, all counted lazily
        handle.write(f"ab {token}\n")
        handle.write(head * 30_000)
        handle.write(f"{token}")
    scan = scanner.scan_file(sources.FileTarget(str(path), "big.log"), RULESET)
    assert [(f.line, f.column) for f in scan.findings] == [(30_001, 4), (60_002, 1)]
