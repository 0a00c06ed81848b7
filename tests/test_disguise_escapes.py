"""Tokens hidden by escapes, entities, hex dumps and NUL-interleaved text (issue 11, items 2
and 3), the terminal-escape boundary (item 5) and the two fake-body families (item 6).

Each family gets a fixture made with a generated token: the finder must yield the run at the
right offset, under the family's name, and decode it so that the plain engine
(``scan_bytes``) finds exactly that token. ``unwrap_and_scan`` does what the disguise
framework does with a finder's runs, so these tests keep their meaning once it is wired.
"""

from __future__ import annotations

import quopri
import random
import re
import string
from typing import Callable, Dict, Iterator, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan.engine import escapes, heuristics, unwrap
from copera_secretscan.engine.disguise import Unwrapped
from copera_secretscan.engine.heuristics import why_not_secret
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.engine.scan import scan_bytes, scan_stream
from copera_secretscan.models import Origin
from tests.test_heuristics import BASE62, BASE64URL, SEED
from tests.tokens import make_token

RULESET = Ruleset()
DATA_FILE = Origin("dump/data.txt")


def find_escaped(data: bytes, origin: Origin) -> Iterator[Unwrapped]:
    """Every run the finders ``origin``'s bytes get (unwrap.finders_for) decode in ``data``."""
    for finder in unwrap.finders_for(data, origin):
        yield from finder(data, RULESET)


def unwrap_and_scan(data: bytes, origin: Origin = DATA_FILE) -> List[Tuple[Unwrapped, str]]:
    """(run, token) for every token the plain engine finds in a run the finders decoded."""
    return [
        (run, finding.secret)
        for run in find_escaped(data, origin)
        for finding in scan_bytes(run.data, origin, RULESET)
    ]


def every(template: str) -> Callable[[str], str]:
    """Every character escaped with ``template`` (given the character's code)."""
    return lambda token: "".join(template % ord(char) for char in token)


def underscores(escape: str) -> Callable[[str], str]:
    return lambda token: token.replace("_", escape)


# family name -> encoders of a token (str -> str); wide encodings are separate (bytes)
FAMILIES: Dict[str, List[Callable[[str], str]]] = {
    "json-escape": [every("\\u%04x"), every("\\u%04X"), underscores("\\u005f")],
    "c-escape": [every("\\x%02x"), underscores("\\x5f"), underscores("\\137")],
    "markdown-escape": [underscores("\\_")],
    "percent": [every("%%%02X"), underscores("%5F"), underscores("%5f"), underscores("%255F")],
    "html-entity": [every("&#%d;"), every("&#x%x;"), underscores("&#95;"), underscores("&lowbar;")],
    "quoted-printable": [underscores("=5F")],
    "hex": [
        lambda token: token.encode().hex(),
        lambda token: token.encode().hex().upper(),
        lambda token: token.encode().hex(" "),
        lambda token: "\\x" + token.encode().hex(),  # PostgreSQL bytea
    ],
}
CASES = [(name, i) for name, encoders in FAMILIES.items() for i in range(len(encoders))]
WIDE = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
bodies = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=16, max_size=64)
tokens = st.tuples(
    st.sampled_from(["cp_pat_", "cp_key_", "cp_oat_"]),
    bodies.filter(lambda body: why_not_secret(body) is None and body[-1] not in "-_"),
).map("".join)
texts = st.text(alphabet=string.ascii_letters + string.digits + " .,:;\"'()[]{}\n", max_size=300)


@pytest.mark.parametrize(("family", "index"), CASES)
@pytest.mark.parametrize("kind", ["cp_pat_", "cp_key_", "cp_oat_"])
def test_each_escape_family_is_found_decoded_at_its_start(family: str, index: int, kind: str):
    token = make_token(kind, 32, seed=index)
    encoded = FAMILIES[family][index](token)
    data = f'line one\n{{"value": "{encoded}", "n": 1}}\n'.encode()
    found = unwrap_and_scan(data)
    assert [(run.start, run.encoding, secret) for run, secret in found] == [
        (data.index(encoded.encode()), family, token)
    ]


@pytest.mark.parametrize("codec", WIDE)
def test_utf16_and_utf32_without_a_bom_are_found(codec: str) -> None:
    token = make_token("cp_key_", 40, seed=7)
    data = f"first line\r\nkey = {token}\r\n".encode(codec)
    found = unwrap_and_scan(data, Origin("out.log"))
    name = codec[:-3] + codec[-2:]  # utf-16le, utf-32be, …
    assert [(run.start, run.encoding, secret) for run, secret in found] == [
        (data.index("cp_".encode(codec)), name, token)
    ]


def quoted_printable(text: str) -> bytes:
    """``text`` as a mail body: lines wrapped at 76 with soft breaks, ``_`` as ``=5F``."""
    return quopri.encodestring(text.replace("_", "=5F").encode(), quotetabs=False)


def test_a_token_cut_by_a_quoted_printable_soft_break_is_found() -> None:
    token = make_token("cp_pat_", 40, seed=11)
    body = quopri.encodestring(("Your new token is " + " " * 45 + token + " .\n").encode())
    assert b"=\n" in body[body.index(b"cp_pat_") :]  # the soft break is inside the token
    data = b"Content-Transfer-Encoding: quoted-printable\n\n" + body
    found = unwrap_and_scan(data, Origin("mail.eml"))
    assert [(run.start, run.encoding, secret) for run, secret in found] == [
        (data.index(b"cp_pat_"), "quoted-printable", token)
    ]


def test_a_line_ending_in_equals_is_no_soft_break_unless_it_is_76_long() -> None:
    token = make_token("cp_pat_", 32, seed=12)
    assert unwrap_and_scan(f"key {token}=\nmore\n".encode()) == []


@SETTINGS
@given(tokens, texts, texts)
def test_any_token_in_a_quoted_printable_body_is_found(token: str, before: str, after: str):
    before, after = before.replace("cp", "cq"), after.replace("cp", "cq")
    data = quopri.encodestring(f"{before} {token} {after}".encode())
    plain = [finding.secret for finding in scan_bytes(data, DATA_FILE, RULESET)]
    found = plain + [secret for _, secret in unwrap_and_scan(data)]
    if re.search(rb"(?<![A-Za-z0-9_])c=\r?\np_", data) is None:  # the known gap: `c=\np_`
        assert token in found


def test_a_surrogate_pair_before_an_escaped_token_stays_one_character() -> None:
    token = make_token("cp_pat_", 24, seed=3)
    data = ('"\\ud83c\\udf89' + token.replace("_", "\\u005f") + '"\n').encode()
    found = unwrap_and_scan(data)
    assert [secret for _, secret in found] == [token]
    assert "🎉".encode() in found[0][0].data


def test_a_plain_token_followed_by_an_escape_is_left_to_the_plain_search() -> None:
    token = make_token("cp_oat_", 32, seed=5)
    data = f'{{"log": "{token}\\nnext line\\u0022", "url": "?t={token}%26x"}}\n'.encode()
    assert list(find_escaped(data, DATA_FILE)) == []


def test_an_escape_that_continues_a_word_is_no_boundary() -> None:
    token = make_token("cp_pat_", 32, seed=6)
    data = ("m" + token.replace("_", "\\u005f") + "\n").encode()  # `mcp_pat_…`
    assert unwrap_and_scan(data) == []


def test_source_code_gets_only_the_search_the_prefilter_makes_and_binaries_none() -> None:
    token = make_token("cp_pat_", 32, seed=8)
    text = token.replace("_", "%5F").encode()
    text_finders = set(escapes.TEXT_FINDERS)
    in_code = text_finders & set(unwrap.finders_for(text, Origin("src/app.py")))
    assert in_code == {escapes.plain_anchor}  # its trigger is the engine's prefilter pattern
    assert text_finders <= set(unwrap.finders_for(text, Origin("notes.md")))
    assert text_finders <= set(unwrap.finders_for(text, Origin("Makefile")))
    binary = b"\xa7\r\r\n\0\0\0\0" + text
    assert unwrap.finders_for(binary, Origin("a.bin")) == ()
    assert unwrap_and_scan(b"\0" * 9000 + text) == []


@pytest.mark.parametrize(
    "placeholder", ["cp_pat_your_token_here_please", "cp_key_xxxxxxxxxxxxxxxxxxxx"]
)
@pytest.mark.parametrize(("family", "index"), CASES)
def test_an_escaped_placeholder_is_still_a_placeholder(
    family: str, index: int, placeholder: str
) -> None:
    encoded = FAMILIES[family][index](placeholder)
    assert unwrap_and_scan(f"token: {encoded}\n".encode()) == []


@SETTINGS
@given(tokens, st.sampled_from(CASES), texts, texts)
def test_any_token_in_any_family_is_found(
    token: str, case: Tuple[str, int], before: str, after: str
) -> None:
    family, index = case
    encoded = FAMILIES[family][index](token)
    data = f"{before.replace('cp', 'cq')} '{encoded}' {after.replace('cp', 'cq')}".encode()
    found = unwrap_and_scan(data)
    assert (data.index(encoded.encode()), family, token) in [
        (run.start, run.encoding, secret) for run, secret in found
    ]


@SETTINGS
@given(tokens, st.sampled_from(WIDE), texts, texts)
def test_any_token_in_wide_text_is_found(token: str, codec: str, before: str, after: str) -> None:
    text = f"{before.replace('cp', 'cq')} {token} {after.replace('cp', 'cq')}"
    found = unwrap_and_scan(("x" * 16 + text).encode(codec), Origin("dump.bin"))
    assert [secret for _, secret in found] == [token]


@SETTINGS
@given(
    st.sampled_from(["your_token_here", "example_key_value", "x" * 24, "a1b2c3d4e5f6g7h8"]),
    st.sampled_from(["cp_pat_", "cp_key_", "cp_oat_"]),
    st.sampled_from(CASES),
)
def test_no_escaped_placeholder_is_found(body: str, kind: str, case: Tuple[str, int]) -> None:
    family, index = case
    encoded = FAMILIES[family][index](kind + body)
    assert unwrap_and_scan(f"value = {encoded}\n".encode()) == []


# -- item 5: a terminal colour sequence is a boundary ------------------------------------------


@pytest.mark.parametrize(
    "escape",
    [
        *[
            b"\x1b[32m",
            b"\x1b[0m",
            b"\\x1b[32m",
            b"\\u001b[1;32m",
            b"\\u001b[38;5;208m",
            b"\\033[0m",
        ],
        *[b"\\e[32m", b"\\E[0m", b"=3D", b"\\042", b"%3d"],
    ],
)
def test_an_escape_that_decodes_to_a_separator_is_a_boundary(escape: bytes) -> None:
    token = make_token("cp_oat_", 32, seed=9)
    found = scan_bytes(b'{"msg": "' + escape + token.encode() + b'"}\n', DATA_FILE, RULESET)
    assert [finding.secret for finding in found] == [token]


@pytest.mark.parametrize("escape", [b"%41", b"\\u0041", b"\\x5f", b"\\101", b"zzm", b"\\[32m"])
def test_an_escape_that_decodes_to_a_word_character_is_no_boundary(escape: bytes) -> None:
    token = make_token("cp_oat_", 32, seed=9)
    assert scan_bytes(b"x " + escape + token.encode() + b"\n", DATA_FILE, RULESET) == []


# -- item 6: two families of fake bodies ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        *["a1b2c3d4e5f6g7h8", "1a2b3c4d5e6f7g8h9i0j", "A1B2C3D4E5F6G7H8", "a1s2d3f4g5h6j7k8"],
        *["q1w2e3r4t5y6u7i8o9p0", "z1y2x3w4v5u6t7s8", "a1b2c3d4e5f6a7b8c9d0e1f2"],
    ],
)
def test_interleaved_keyboard_sequences_are_not_secrets(body: str) -> None:
    assert heuristics.is_interleaved(body.lower())
    assert why_not_secret(body) == "sequence"
    assert scan_bytes(f"t = 'cp_pat_{body}'\n".encode(), DATA_FILE, RULESET) == []


@pytest.mark.parametrize(
    "body",
    [
        *["rejects_whitespace_inside_the_body", "finds_token_in_json_file", "handles-empty-input"],
        *["reports_a_token_at_line_2", "is_redacted_in_every_format"],
    ],
)
def test_lowercase_words_joined_by_underscores_are_not_secrets(body: str) -> None:
    assert heuristics.is_snake_words(body)
    assert why_not_secret(body) == "word-like"
    assert scan_bytes(f"def test_cp_key_{body}():\n".encode(), DATA_FILE, RULESET) == []
    assert scan_bytes(f"x = cp_key_{body}\n".encode(), DATA_FILE, RULESET) == []


@pytest.mark.parametrize(
    "body",
    [
        *["CmnnNbUpWqXwcvvcvh", "a1b2c3d4Zq8LmN3vXw", "ab_cd_ef_gh_ij_kl_mn", "kx_qzt_wvb_prf_lmn"],
        *["rejects_Whitespace_inside", "x7_vk2_9qr_hello_w"],
    ],
)
def test_random_looking_bodies_near_both_families_still_pass(body: str) -> None:
    assert not heuristics.is_interleaved(body.lower())
    assert not heuristics.is_snake_words(body)


def test_random_bodies_are_neither_family() -> None:
    """The bodies tests/test_heuristics.py measures the false-negative rate on."""
    rng = random.Random(SEED)
    for i in range(20_000):
        body = "".join(rng.choices(BASE62 if i % 2 == 0 else BASE64URL, k=rng.randint(16, 64)))
        assert not heuristics.is_interleaved(body.lower()), body
        assert not heuristics.is_snake_words(body), body


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 64])
def test_a_stream_is_judged_binary_or_text_on_enough_bytes_not_its_first_read(piece: int) -> None:
    """A pipe may hand over two bytes first: `` \\0`` alone looks like a binary."""
    token = make_token("cp_pat_", 24, seed=12)
    data = f" {token} ".encode("utf-16-le")
    reads = iter([data[at : at + piece] for at in range(0, len(data), piece)])
    found = list(scan_stream(lambda size: next(reads, b""), DATA_FILE, RULESET, chunk_size=piece))
    assert [finding.secret for finding in found] == [token]
    assert [finding.encoding for finding in found] == [("utf-16le",)]
