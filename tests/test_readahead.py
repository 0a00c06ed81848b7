"""Reading ahead in a thread changes when bytes arrive, never which bytes or what is found."""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import List

import pytest

from copera_secretscan import pipeline as scanner
from copera_secretscan.config.settings import Settings
from copera_secretscan.engine import scan as engine
from copera_secretscan.models import Origin
from copera_secretscan.sources import files as sources
from copera_secretscan.sources.readahead import read_ahead
from tests.tokens import make_token


def test_chunks_arrive_in_order_and_the_end_stays_the_end() -> None:
    data = bytes(range(256)) * 1000
    with read_ahead(io.BytesIO(data).read, 4096) as read:
        chunks = []
        while True:
            chunk = read(4096)
            if not chunk:
                break
            chunks.append(chunk)
        assert read(4096) == b"" and read(4096) == b""  # asking again never blocks
    assert b"".join(chunks) == data


def test_a_read_error_reaches_the_consumer() -> None:
    calls: List[int] = []

    def failing(size: int) -> bytes:
        calls.append(size)
        if len(calls) > 2:
            raise OSError(5, "Input/output error")
        return b"x" * size

    with read_ahead(failing, 10) as read:
        assert read(10) == b"x" * 10
        assert read(10) == b"x" * 10
        with pytest.raises(OSError, match="Input/output error"):
            read(10)


def test_leaving_early_stops_the_thread() -> None:
    before = threading.active_count()
    endless = io.BytesIO(b"a" * (1 << 22)).read
    with read_ahead(endless, 1024) as read:
        read(1024)
    assert threading.active_count() == before


def test_a_large_file_is_scanned_the_same_with_read_ahead(tmp_path: Path) -> None:
    token = make_token("cp_oat_", 40, seed=3)
    line = b"x = 'padding padding padding'\n"
    body = line * (engine.CHUNK_SIZE // len(line))  # one chunk of lines, then a token, twice
    path = tmp_path / "big.txt"
    path.write_bytes(body + f"T = '{token}'\n".encode() + body + f"{token}\n".encode())
    target = sources.FileTarget(str(path), "big.txt")
    ruleset = Settings().ruleset()
    ahead = scanner.scan_file(target, ruleset)
    with path.open("rb") as handle:  # the same file as a plain stream: no thread, no re-reads
        plain = scanner._one(sources.from_handle(handle, Origin("big.txt")), ruleset)
    assert ahead == plain
    assert [(f.line, f.column) for f in ahead.findings] == [
        (body.count(b"\n") + 1, 6),
        (2 * body.count(b"\n") + 2, 1),
    ]
    assert ahead.size == path.stat().st_size
