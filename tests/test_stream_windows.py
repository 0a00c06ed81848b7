"""Property tests: a stream longer than the disguise scan's window (unwrap.OVERLAP) reports
what its whole bytes report, with tokens plain and in disguise placed across the seams of
both readings' windows.

The stream's plain search skips the ranges the disguise scan already found clean
(search.Clear), and the disguise scan searches each window with the tail of the one before
it; both depend on where reads and windows end, and the findings must not. The filler is
text (the disguise scan runs only on text) with near misses: ``tcp_``, base64, hex, entities.
"""

from __future__ import annotations

import base64
import io
import string
from typing import List, Tuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.heuristics import why_not_secret
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.engine.unwrap import OVERLAP
from copera_secretscan.models import Finding, Origin

RULESET = Ruleset()
ORIGIN = Origin("dump.txt")  # data, not source code: every finder runs
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

LINES = [
    b"def f(x):\n",
    b"    return x  # tcp_keepalive\n",
    b"value = 'YWJjZGVmZ2hp'\n",
    b"\tdata: eyJhbGciOiJIUzI1NiJ9\n",
    b"x = 0x70 + 0x5f  # 70 5f\n",
    b"&amp; &#38; %20 \\u0041\n",
    b"plain text, nothing to see\n",
    b"scp\n",
    b"_\n",
]
fillers = st.lists(st.sampled_from(LINES), min_size=1, max_size=12).map(b"".join)
bodies = st.text(alphabet=string.ascii_letters + string.digits, min_size=20, max_size=40).filter(
    lambda body: why_not_secret(body) is None
)
tokens = st.tuples(st.sampled_from(["cp_pat_", "cp_key_", "cp_oat_"]), bodies).map(
    lambda parts: "".join(parts).encode()
)


def _base64(token: bytes, lead: int) -> bytes:
    return base64.b64encode(b'="x'[:lead] + token)


DISGUISES = {
    "plain": lambda token: token,
    "base64": lambda token: _base64(token, 0),
    "base64 one in": lambda token: _base64(token, 1),
    "base64 two in": lambda token: _base64(token, 2),
    "percent": lambda token: token.replace(b"_", b"%5F"),
    "hex escapes": lambda token: b"".join(b"\\x%02x" % byte for byte in token),
    "entities": lambda token: token.replace(b"_", b"&#95;"),
}
SEAMS = [OVERLAP, 2 * OVERLAP, 3 * OVERLAP, 100_000, 200_000, 4096 * 40]
places = st.tuples(st.sampled_from(SEAMS), st.integers(-300, 300)).map(sum)
plantings = st.lists(
    st.tuples(places, st.sampled_from(sorted(DISGUISES)), tokens), min_size=1, max_size=4
)
chunk_sizes = st.sampled_from([4096, 65_536, 65_537, 100_000, 1 << 20])


def build(filler: bytes, plantings: List[Tuple[int, str, bytes]]) -> bytes:
    """The filler repeated past the last seam, each disguised token on its own line put at the
    line start nearest after its place."""
    data = filler * (1 + (4 * OVERLAP) // len(filler))
    for place, disguise, token in sorted(plantings, reverse=True):
        at = data.index(b"\n", place) + 1
        data = data[:at] + b"key: " + DISGUISES[disguise](token) + b"\n" + data[at:]
    return data


def _place(finding: Finding) -> Tuple[int, int, str, str, Tuple[str, ...]]:
    return (finding.line, finding.column, finding.rule_id, finding.secret, finding.encoding)


@SETTINGS
@given(filler=fillers, plantings=plantings, chunk_size=chunk_sizes)
def test_a_long_stream_reports_what_its_whole_bytes_report(
    filler: bytes, plantings: List[Tuple[int, str, bytes]], chunk_size: int
) -> None:
    data = build(filler, plantings)
    whole = engine.scan_bytes(data, ORIGIN, RULESET)
    streamed = list(engine.scan_stream(io.BytesIO(data).read, ORIGIN, RULESET, chunk_size))
    assert sorted(streamed, key=_place) == sorted(whole, key=_place)
    assert {token.decode() for _, _, token in plantings} <= {f.secret for f in whole}


@SETTINGS
@given(filler=fillers, place=places, token=tokens, chunk_size=chunk_sizes)
def test_a_plain_token_after_clean_windows_is_found_at_its_line(
    filler: bytes, place: int, token: bytes, chunk_size: int
) -> None:
    """The plain search skips what the disguise scan found clean, up to the token's window."""
    data = build(filler, [(place, "plain", token)])
    line = data[: data.index(token)].count(b"\n") + 1
    streamed = list(engine.scan_stream(io.BytesIO(data).read, ORIGIN, RULESET, chunk_size))
    assert [(f.secret, f.line, f.column, f.encoding) for f in streamed] == [
        (token.decode(), line, 6, ())
    ]
