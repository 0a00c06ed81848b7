"""The engine on bytes: the token grammar, positions in every encoding we meet, binary data,
huge lines, and the streaming seams (a token is found exactly once wherever the chunks fall)."""

from __future__ import annotations

import codecs
import io
import marshal
import random
from typing import Callable, List

import pytest

from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.rules import MAX_BODY, Ruleset
from copera_secretscan.models import ELLIPSIS, Finding, Origin
from tests.tokens import KINDS, make_token

TOKEN = make_token("cp_pat_", 32, seed=7)
ORIGIN = Origin("src/settings.py")


DEFAULT = Ruleset()


def scan(data: bytes, ruleset: Ruleset = DEFAULT, origin: Origin = ORIGIN) -> List[Finding]:
    return engine.scan_bytes(data, origin, ruleset)


def stream(data: bytes, chunk_size: int, ruleset: Ruleset = DEFAULT) -> List[Finding]:
    return list(engine.scan_stream(io.BytesIO(data).read, ORIGIN, ruleset, chunk_size))


def where(findings: List[Finding]) -> List[tuple]:
    return [(f.line, f.column, f.end_line, f.end_column, f.secret) for f in findings]


# --- the grammar ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule_id", sorted(KINDS))
def test_each_kind_is_found_with_its_rule_id(rule_id: str) -> None:
    token = make_token(KINDS[rule_id], 40, seed=1)
    found = scan(f"value: {token}\n".encode())
    assert [(f.rule_id, f.secret, f.prefix) for f in found] == [(rule_id, token, KINDS[rule_id])]


@pytest.mark.parametrize("before", ["m", "s", "g", "_", "1", "Z", "tcp_"])
def test_a_prefix_that_continues_a_word_is_not_a_token(before: str) -> None:
    assert scan(f"x = {before}{TOKEN}\n".encode()) == []


@pytest.mark.parametrize(
    "before",
    [" ", "\t", "\n", '"', "'", "=", ":", "(", "[", "{", "<", ">", "/", "\\", "-", ",", ";"],
)
def test_a_prefix_after_a_non_word_character_is_a_token(before: str) -> None:
    found = scan(f"x{before}{TOKEN}\n".encode())
    assert [f.secret for f in found] == [TOKEN]


@pytest.mark.parametrize("before", [b"\x00", b"\xff", b"\xc3\xa9", b"\xe2\x80\x9c"])
def test_a_prefix_after_a_nul_or_non_ascii_byte_is_a_token(before: bytes) -> None:
    assert [f.secret for f in scan(b"x" + before + TOKEN.encode())] == [TOKEN]


@pytest.mark.parametrize("escape", ["%3D", "%2f", "\\n", "\\t", "\\r", "\\u0022", "\\x3d"])
def test_an_escaped_delimiter_before_the_prefix_is_a_boundary(escape: str) -> None:
    """URL-encoded redirects (`token%3Dcp_…`) and JSON strings (`\\ncp_…`) leak real tokens."""
    assert [f.secret for f in scan(f"a{escape}{TOKEN}&b\n".encode())] == [TOKEN]


@pytest.mark.parametrize(
    "text",
    ["CP_PAT_" + TOKEN[7:], "Cp_pat_" + TOKEN[7:], "cp_pat" + TOKEN[7:], "cp-pat-" + TOKEN[7:]],
)
def test_the_prefix_is_exact_and_lower_case(text: str) -> None:
    assert scan(f"{text}\n".encode()) == []


def test_minimum_body_length_defaults_to_16() -> None:
    body16 = make_token("cp_pat_", 16, seed=3)
    assert [f.secret for f in scan(f"a {body16} b\n".encode())] == [body16]
    assert scan(f"a {body16[:-1]} b\n".encode()) == []


@pytest.mark.parametrize(("min_length", "length", "found"), [(24, 23, False), (24, 24, True)])
def test_minimum_body_length_is_configurable(min_length: int, length: int, found: bool) -> None:
    token = make_token("cp_key_", length, seed=4)
    result = scan(f"{token}\n".encode(), Ruleset(min_length=min_length))
    assert [f.secret for f in result] == ([token] if found else [])


def test_a_lower_minimum_finds_shorter_bodies() -> None:
    token = make_token("cp_oat_", 10, seed=5)
    assert [f.secret for f in scan(f"{token}\n".encode(), Ruleset(min_length=8))] == [token]


@pytest.mark.parametrize("after", [*".\"'/?&\\;,: \n\r\t=+)]}>|!@#%*~`", "\x00", "\u2026"])
def test_the_body_ends_at_the_first_non_token_character(after: str) -> None:
    found = scan(f"({TOKEN}{after}Zq8LmN3v\n".encode())
    assert [(f.secret, f.end_column) for f in found] == [(TOKEN, 2 + len(TOKEN))]


def test_dashes_and_underscores_belong_to_the_body() -> None:
    token = TOKEN + "-Ab_9"
    assert [f.secret for f in scan(f"{token}.\n".encode())] == [token]


def test_a_body_of_max_length_is_a_token_and_a_longer_run_is_a_blob() -> None:
    rng = random.Random(1)
    body = "".join(
        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        for _ in range(MAX_BODY + 1)
    )
    assert [len(f.secret) for f in scan(f"cp_key_{body[:MAX_BODY]}\n".encode())] == [7 + MAX_BODY]
    assert scan(f"cp_key_{body}\n".encode()) == []


def test_a_token_inside_another_tokens_body_is_one_finding() -> None:
    inner = make_token("cp_key_", 24, seed=9)
    found = scan(f"{TOKEN}-{inner}\n".encode())
    assert [f.secret for f in found] == [f"{TOKEN}-{inner}"]


@pytest.mark.parametrize(
    "text",
    [
        'if (header.startsWith("Bearer cp_pat_")) {',
        "prefix = 'cp_key_'",
        "cp_pat_${COPERA_TOKEN}",
        "cp_pat_{{ copera_token }}",
        "const RE = /cp_oat_[A-Za-z0-9_-]{16,}/",
        "cp_pat_Zq8LmN3vXw5Rt2Kp{{ suffix }}",
    ],
)
def test_prefix_only_code_and_templates_are_silent(text: str) -> None:
    assert scan(f"{text}\n".encode()) == []


# --- positions -----------------------------------------------------------------------------


def test_token_at_file_start_and_at_eof_without_newline() -> None:
    assert where(scan(TOKEN.encode())) == [(1, 1, 1, 1 + len(TOKEN), TOKEN)]
    assert where(scan(f"a\nb = {TOKEN}".encode())) == [(2, 5, 2, 5 + len(TOKEN), TOKEN)]


def test_crlf_counts_lines_and_leaves_the_carriage_return_out_of_columns() -> None:
    data = f"one\r\ntwo\r\n  key: {TOKEN}\r\nfour\r\n".encode()
    (finding,) = scan(data)
    assert where([finding]) == [(3, 8, 3, 8 + len(TOKEN), TOKEN)]
    assert finding.line_text == f"  key: {TOKEN}"
    assert finding.prev_line_text == "two"


def test_utf8_bom_does_not_shift_line_one() -> None:
    assert where(scan(codecs.BOM_UTF8 + TOKEN.encode())) == [(1, 1, 1, 1 + len(TOKEN), TOKEN)]
    data = codecs.BOM_UTF8 + f"x = {TOKEN}\ny = {TOKEN}\n".encode()
    assert [(f.line, f.column) for f in scan(data)] == [(1, 5), (2, 5)]


def test_columns_count_characters_in_utf8() -> None:
    data = f"naïve = '日本語 🎉 {TOKEN}'\n".encode()
    assert [f.column for f in scan(data)] == [len("naïve = '日本語 🎉 ") + 1]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_single_byte_encodings_count_one_character_per_byte(encoding: str) -> None:
    prefix = "café £5 « naïve » ½ ° ü — “q” = " if encoding == "cp1252" else "café £5 « ½ ° ü = "
    data = f"première ligne\n{prefix}{TOKEN} # fin\n".encode(encoding)
    assert data.decode(encoding).encode(encoding) == data
    assert where(scan(data)) == [(2, len(prefix) + 1, 2, len(prefix) + 1 + len(TOKEN), TOKEN)]


def test_multibyte_legacy_encodings_keep_lines_and_count_undecodable_bytes() -> None:
    """Shift-JIS is not UTF-8: each undecodable byte counts as a character (documented in
    engine.py), so the column is the byte count here, not the 4 characters an editor shows."""
    prefix = "日本語="
    data = f"一行目\n{prefix}{TOKEN}\n".encode("shift_jis")
    raw_prefix = prefix.encode("shift_jis")
    expected = len(raw_prefix.decode("utf-8", "surrogateescape")) + 1
    assert expected == len(raw_prefix) + 1  # no valid UTF-8 sequence by chance in this text
    assert where(scan(data)) == [(2, expected, 2, expected + len(TOKEN), TOKEN)]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_transcoded(encoding: str) -> None:
    bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    text = f"first 🎉 line\r\n  token = {TOKEN}\r\n"
    found = scan(bom + text.encode(encoding))
    assert where(found) == [(2, 11, 2, 11 + len(TOKEN), TOKEN)]
    assert found[0].line_text == f"  token = {TOKEN}"


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 64, 513])
def test_utf16_survives_reads_the_decoder_cannot_finish(chunk_size: int) -> None:
    """A one-byte read, or half a surrogate pair, decodes to nothing: not the end of the file."""
    text = "🎉" * 300 + f"\nx={TOKEN}\n" + "🎉" * 300 + f" {TOKEN}"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    trickle = io.BytesIO(data)
    found = list(
        engine.scan_stream(lambda n: trickle.read(min(n, 1)), ORIGIN, Ruleset(), chunk_size)
    )
    assert [(f.line, f.column) for f in found] == [(2, 3), (3, 302)]
    assert [(f.line, f.column) for f in stream(data, chunk_size)] == [(2, 3), (3, 302)]


def test_a_binary_that_starts_like_utf16_is_scanned_as_bytes() -> None:
    data = codecs.BOM_UTF16_LE + bytes(range(1, 250)) + f" {TOKEN} ".encode() + b"\x01" * 600
    assert [f.secret for f in scan(data)] == [TOKEN]


def test_tokens_inside_binary_data_are_found() -> None:
    rng = random.Random(2)
    noise = bytes(rng.randrange(256) for _ in range(5000)).replace(b"cp_", b"cq_")
    sqlite = b"SQLite format 3\x00" + noise + b"\x00\x17" + TOKEN.encode() + b"\x00" + noise
    assert [f.secret for f in scan(sqlite)] == [TOKEN]
    assert [f.secret for f in scan(b"\x00\x00" + TOKEN.encode() + b"\x00\x00")] == [TOKEN]


@pytest.mark.parametrize("body_length", [32, 41, 58, 90])
def test_a_token_in_compiled_python_is_found(body_length: int) -> None:
    """marshal writes a short string as <type><length byte><bytes><next type code>. The length
    of a 48-, 65- or 97-character token is the code of '0', 'A' or 'a', a word character that
    the boundary rule alone would take for `mcp_pat_`-style text; the engine reads it as the
    length. A non-word length byte (39 is "'") leaves the next type code ('N') glued on: the
    token is still reported."""
    token = make_token("cp_pat_", body_length, seed=body_length)
    code = compile(f"API_TOKEN = {token!r}\nOTHER = None\n", "settings.py", "exec")
    pyc = b"\xa7\r\r\n" + b"\x00" * 12 + marshal.dumps(code)
    (finding,) = scan(pyc)
    if chr(len(token)).isalnum():
        assert finding.secret == token
    else:
        assert finding.secret == token + "N"


def test_a_word_byte_before_the_prefix_allows_only_the_token_of_that_length() -> None:
    token = make_token("cp_key_", 41, seed=3)  # 48 characters: "0" announces it
    assert [f.secret for f in scan(f"0{token}Zq8\n".encode())] == [token]
    assert scan(f"1{token}.\n".encode()) == []  # 49 would run past the token characters
    assert scan(f"m{token}.\n".encode()) == []  # `mcp_…`-style text: 109 needed


def test_a_token_at_the_end_of_a_line_of_megabytes_has_an_exact_column() -> None:
    data = ("é" * 1_500_000 + "a" * 2_000_000 + f" {TOKEN}").encode()
    for found in (scan(data), stream(data, engine.CHUNK_SIZE), stream(data, 100_003)):
        (finding,) = found
        assert (finding.line, finding.column) == (1, 3_500_002)
        assert finding.end_column == 3_500_002 + len(TOKEN)
        assert finding.line_text.endswith(TOKEN)
        assert len(finding.line_text) <= 2 * engine.CONTEXT + len(TOKEN)


def test_many_tokens_in_one_line_each_have_their_column() -> None:
    tokens = [
        make_token(prefix, 20 + i % 30, seed=i)
        for i, prefix in enumerate(["cp_pat_", "cp_key_", "cp_oat_"] * 400)
    ]
    line = "é," + ",".join(tokens)
    found = scan(line.encode() + b"\n")
    assert [f.secret for f in found] == tokens
    assert [f.column for f in found] == [line.index(t) + 1 for t in tokens]


def test_end_line_and_end_column_point_just_past_the_token() -> None:
    (finding,) = scan(f"\n\n\tx: '{TOKEN}',\n".encode())
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (
        3,
        6,
        3,
        6 + len(TOKEN),
    )


# --- identity and redaction ------------------------------------------------------------------


def test_fingerprint_survives_moving_the_line_and_depends_on_the_path() -> None:
    (before,) = scan(f"x = {TOKEN}\n".encode())
    (after,) = scan(f"# new\n\n\n    x = {TOKEN}\n".encode())
    (elsewhere,) = scan(f"x = {TOKEN}\n".encode(), origin=Origin("other.py"))
    (other_token,) = scan(f"x = {make_token('cp_pat_', 32, seed=8)}\n".encode())
    assert (before.line, after.line) == (1, 4)
    assert before.fingerprint == after.fingerprint
    assert before.fingerprint != elsewhere.fingerprint
    assert before.fingerprint != other_token.fingerprint
    assert TOKEN not in before.fingerprint and TOKEN[7:] not in before.fingerprint


@pytest.mark.parametrize("length", [8, 16, 17, 32, 64, 200])
def test_redaction_never_shows_the_whole_body(length: int) -> None:
    token = make_token("cp_oat_", length, seed=length)
    (finding,) = scan(f"{token}\n".encode(), Ruleset(min_length=8))
    body = token[7:]
    assert finding.redacted.startswith("cp_oat_") and finding.redacted.endswith(ELLIPSIS)
    assert body not in finding.redacted
    assert len(finding.redacted) - len("cp_oat_") - 1 <= length // 4


# --- streaming -----------------------------------------------------------------------------


def _filler(size: int) -> bytes:
    """Text with short and long lines, multi-byte characters and CRLF, and no anchor."""
    rng = random.Random(size)
    words = ["alpha", "é", "日本", "\r\n", "\n", "x" * 300, "tcp_", "gcp_key_path", "\t", "🎉"]
    out = b""
    while len(out) < size:
        out += rng.choice(words).encode() + b" "
    return out[:size].decode("utf-8", "ignore").encode()


def _expected(data: bytes, offset: int) -> tuple:
    head = data[:offset]
    line_start = head.rfind(b"\n") + 1
    return head.count(b"\n") + 1, len(head[line_start:].decode("utf-8", "surrogateescape")) + 1


@pytest.mark.parametrize("chunk_size", [600, 1000, 4096])
def test_a_token_straddling_a_chunk_seam_is_found_exactly_once(chunk_size: int) -> None:
    """Tokens placed at every offset around seams that come after the window was trimmed."""
    token = TOKEN.encode()
    for seam in (chunk_size * (14_000 // chunk_size), chunk_size * (20_000 // chunk_size)):
        for offset in range(seam - len(token) - 3, seam + 4):
            data = (
                _filler(offset - 1)
                + b" "
                + token
                + b" # copera-secretscan: allow\n"
                + _filler(3000)
            )
            start = len(_filler(offset - 1)) + 1
            found = stream(data, chunk_size)
            assert [(f.line, f.column, f.secret) for f in found] == [
                (*_expected(data, start), TOKEN)
            ], (seam, offset)
            assert found[0].line_text.endswith("# copera-secretscan: allow")


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 515])
def test_tiny_chunks_give_the_same_findings_as_one_read(chunk_size: int) -> None:
    data = _filler(15_000) + f" {TOKEN}\n".encode() + _filler(9_000) + f"\n{TOKEN}".encode()
    whole = scan(data)
    assert len(whole) == 2
    chunked = stream(data, chunk_size)
    assert where(chunked) == where(whole)
    assert [(f.line_text, f.prev_line_text) for f in chunked] == [
        (f.line_text, f.prev_line_text) for f in whole
    ]


def test_short_reads_do_not_hide_a_bom() -> None:
    data = codecs.BOM_UTF8 + f"x={TOKEN}\n".encode()
    source = io.BytesIO(data)
    read: Callable[[int], bytes] = lambda n: source.read(min(n, 2))  # noqa: E731
    found = list(engine.scan_stream(read, ORIGIN, Ruleset(), 64))
    assert [(f.line, f.column) for f in found] == [(1, 3)]


def test_might_contain_is_a_cheap_superset() -> None:
    assert engine.might_contain(b"x cp_ y", Ruleset())
    assert engine.might_contain(codecs.BOM_UTF16_LE + "cp_".encode("utf-16-le"), Ruleset())
    assert not engine.might_contain(b"nothing to see", Ruleset())


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 8, 600])
def test_a_length_prefixed_token_cut_mid_prefix_by_a_seam_is_found(chunk_size: int) -> None:
    """The `tcp_` prefilter must not drop an anchor whose prefix is not all in the window yet."""
    token = make_token("cp_key_", 41, seed=3)  # 48 characters: "0" announces it
    for pad in range(600, 620):
        data = b"." * pad + b"0" + token.encode() + b"Zq8.\n"
        assert [f.secret for f in stream(data, chunk_size)] == [token], pad


def test_anchors_inside_a_blob_are_rejected_and_a_token_after_it_is_found() -> None:
    """`-cp_pat_` repeated is one run of token characters far over MAX_BODY: nothing in it is
    a token (and the engine remembers the blob instead of rescanning it per anchor)."""
    blob = b"-cp_pat_" * 20_000 + b"_cp_key_" * 20_000
    data = blob + f"\nx = {TOKEN}\n".encode()
    assert [(f.line, f.secret) for f in scan(data)] == [(2, TOKEN)]
    assert [(f.line, f.secret) for f in stream(data, 4096)] == [(2, TOKEN)]


def test_a_teams_placeholder_words_silence_their_examples() -> None:
    example = "cp_pat_" + "acmeprod_Zq8LmN3v"  # the word covers half the body
    assert [f.secret for f in scan(f"{example}\n".encode())] == [example]
    quiet = Ruleset(placeholders=frozenset({"acmeprod"}))
    assert scan(f"{example}\n".encode(), quiet) == []
