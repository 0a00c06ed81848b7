"""Property-based tests: a token put anywhere in arbitrary bytes is found exactly once, at the
line and column computed here independently, however the stream is chunked.

The expected column decodes the bytes before the token on its line with ``surrogateescape``:
one character per valid UTF-8 sequence and one per undecodable byte, the rule engine.py
documents. (``errors="replace"`` would fold a truncated sequence into one U+FFFD and so count
latin-1 "é£" as one character; the engine counts it as two, as a latin-1 editor shows it.)

Inputs reach ~30 KB so that the engine trims its window (it keeps 12 KiB behind the search
position) and chunk sizes go down to 1 byte: every seam position is exercised. Any chunk size
is supported; only the first read is at least 3 bytes, to see any BOM.
"""

from __future__ import annotations

import codecs
import io
import string
from typing import List, Tuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.heuristics import why_not_secret
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.models import Finding, Origin

RULESET = Ruleset()
ORIGIN = Origin("p")
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

bodies = st.text(alphabet=string.ascii_letters + string.digits, min_size=16, max_size=64).filter(
    lambda body: why_not_secret(body) is None
)
tokens = st.tuples(st.sampled_from(["cp_pat_", "cp_key_", "cp_oat_"]), bodies).map("".join)

pieces = st.one_of(
    st.binary(max_size=80),
    st.text(max_size=40).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.lists(
        st.sampled_from(["a", "é", "日本", "🎉", "\r\n", "\n", "\t", "\x00", " "]), max_size=30
    ).map(lambda parts: "".join(parts).encode()),
)
fillers = st.tuples(pieces, st.integers(0, 400), pieces).map(lambda t: t[0] * t[1] + t[2])

LEFT = [b" ", b"\t", b"\n", b"\r\n", b"\x00", b'"', b"'", b"=", b":", b"(", b"/", b"-", b"\xff"]
LEFT += [b"\x80", b"\xc3\xa9", b"\xe2\x80\x9c", b"\xc3"]
RIGHT = [b" ", b"\n", b"\r\n", b'"', b"'", b".", b",", b";", b")", b"\x00", b"\xff", b"\xc3\xa9"]
chunk_sizes = st.one_of(st.integers(1, 80), st.integers(64, 4096))


def clean(filler: bytes) -> bytes:
    """No anchor of its own, so the planted tokens are the only ones."""
    return filler.replace(b"cp_", b"cq_")


def expected_position(data: bytes, offset: int) -> Tuple[int, int]:
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    head = data[start:offset]
    line_start = head.rfind(b"\n") + 1
    return head.count(b"\n") + 1, len(head[line_start:].decode("utf-8", "surrogateescape")) + 1


def stream(data: bytes, chunk_size: int) -> List[Finding]:
    return list(engine.scan_stream(io.BytesIO(data).read, ORIGIN, RULESET, chunk_size))


def plant(prefix: bytes, left: bytes, token: str, right: bytes, suffix: bytes) -> bytes:
    data = clean(prefix) + left
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        data = b"#" + data  # UTF-16 is transcoded, and has its own tests in test_engine.py
    return data + token.encode() + right + clean(suffix)


@SETTINGS
@given(
    prefix=fillers,
    left=st.sampled_from(LEFT),
    token=tokens,
    right=st.sampled_from(RIGHT),
    suffix=fillers,
    chunk_size=chunk_sizes,
)
def test_a_token_anywhere_is_found_once_at_its_place(
    prefix: bytes, left: bytes, token: str, right: bytes, suffix: bytes, chunk_size: int
) -> None:
    data = plant(prefix, left, token, right, suffix)
    offset = data.index(token.encode())
    line, column = expected_position(data, offset)
    want = [(token, line, column, line, column + len(token))]
    for found in (engine.scan_bytes(data, ORIGIN, RULESET), stream(data, chunk_size)):
        assert [(f.secret, f.line, f.column, f.end_line, f.end_column) for f in found] == want


@SETTINGS
@given(
    parts=st.lists(st.tuples(fillers, st.sampled_from(LEFT), tokens), min_size=1, max_size=6),
    tail=fillers,
    chunk_size=chunk_sizes,
)
def test_several_tokens_are_each_found_once_in_order(
    parts: List[Tuple[bytes, bytes, str]], tail: bytes, chunk_size: int
) -> None:
    data, planted = b"#", []
    for filler, left, token in parts:
        data += b"." + clean(filler) + left
        planted.append((token, *expected_position(data, len(data))))
        data += token.encode()
    data += b"." + clean(tail)
    found = stream(data, chunk_size)
    assert [(f.secret, f.line, f.column) for f in found] == planted


@SETTINGS
@given(
    data=st.lists(st.one_of(fillers, tokens.map(str.encode)), max_size=8).map(b"".join),
    chunk_size=chunk_sizes,
)
def test_chunking_never_changes_the_findings(data: bytes, chunk_size: int) -> None:
    """Whatever the bytes (tokens glued to anything, BOMs, UTF-16 lookalikes), streaming in
    small chunks reports exactly what one read does, down to the context lines."""
    whole = engine.scan_bytes(data, ORIGIN, RULESET)
    chunked = stream(data, chunk_size)
    assert chunked == whole
    assert [(f.line_text, f.prev_line_text) for f in chunked] == [
        (f.line_text, f.prev_line_text) for f in whole
    ]
