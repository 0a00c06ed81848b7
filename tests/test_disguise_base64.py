"""Tokens in base64 and base64url (issue 11 item 1): each shape a real leak takes, found at the
line and column where the encoded run starts, with its encoding chain; and no finding in base64
that holds no token, nor in an encoded placeholder."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Callable, List, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan.cli.main import main
from copera_secretscan.engine import escapes, unwrap
from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.b64 import images
from copera_secretscan.engine.disguise import MAX_DEPTH
from copera_secretscan.engine.rules import BUILTIN_RULES, Rule, Ruleset
from copera_secretscan.models import Finding, Origin
from tests.tokens import make_token

TOKEN = make_token("cp_pat_", 40, seed=1101)
KEY = make_token("cp_key_", 32, seed=1102)


def b64(data: str, url: bool = False) -> str:
    raw = data.encode()
    return (base64.urlsafe_b64encode(raw) if url else base64.b64encode(raw)).decode()


def scan(text: str, path: str = "secret.yaml") -> List[Finding]:
    return engine.scan_bytes(text.encode(), Origin(path), Ruleset())


def where(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of ``needle`` in ``text``."""
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def reader(pieces: List[bytes]) -> Callable[[int], bytes]:
    pending = list(reversed(pieces))
    return lambda size: pending.pop() if pending else b""


def only(found: List[Finding]) -> Finding:
    assert len(found) == 1, found
    return found[0]


# --- one case per shape ------------------------------------------------------------------------


def test_kubernetes_secret_data_value() -> None:
    value = b64(TOKEN)
    text = f"apiVersion: v1\nkind: Secret\ndata:\n  username: {b64('admin')}\n  token: {value}\n"
    found = only(scan(text))
    assert (found.secret, found.encoding, found.rule_id) == (TOKEN, ("base64",), "copera-pat")
    assert (found.line, found.column) == where(text, value) == (5, 10)
    assert value not in found.line_text and "[base64]" in found.line_text  # reports show this


@pytest.mark.parametrize("lead", ["", "u:", "ab:"])  # the anchor at each of the 3 alignments
def test_basic_auth_header_at_every_alignment(lead: str) -> None:
    value = b64(lead + TOKEN)
    text = f"GET / HTTP/1.1\r\nAuthorization: Basic {value}\r\n\r\n"
    found = only(scan(text, "capture.txt"))
    assert (found.secret, found.encoding) == (TOKEN, ("base64",))
    assert (found.line, found.column) == where(text, value)


def test_base64url_without_padding() -> None:
    raw = f"?>{TOKEN}~~".encode()  # bytes that encode to `-` and `_`
    value = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert "-" in value or "_" in value
    assert only(scan(f"link = {value}\n")).secret == TOKEN


@pytest.mark.parametrize("width, newline", [(64, "\n"), (76, "\r\n"), (17, "\n")])
def test_runs_wrapped_at_a_column(width: int, newline: str) -> None:
    value = b64("# generated\nsettings:\n  copera: " + TOKEN + "\n")
    lines = [value[i : i + width] for i in range(0, len(value), width)]
    text = "-----BEGIN CONFIG-----" + newline + newline.join(lines) + newline + "-----END-----\n"
    found = only(scan(text, "config.pem"))
    assert (found.secret, found.encoding, found.line, found.column) == (TOKEN, ("base64",), 2, 1)


def test_yaml_block_scalar_with_indentation() -> None:
    value = b64("[client]\nuser = ci\ntoken = " + KEY + "\n")
    body = "\n".join("    " + value[i : i + 20] for i in range(0, len(value), 20))
    text = f"kind: ConfigMap\nbinaryData:\n  client.ini: |\n{body}\n  other: x\n"
    found = only(scan(text))
    assert (found.secret, found.line, found.column) == (KEY, 4, 5)


def test_jwt_payload_segment() -> None:
    def segment(claims: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")

    jwt = f"{segment({'alg': 'HS256'})}.{segment({'sub': 'ci', 'copera': TOKEN})}.c2lnbmF0dXJl"
    text = f'{{"session": "{jwt}"}}\n'
    found = only(scan(text, "session.json"))
    payload = jwt.split(".")[1]
    assert (found.secret, found.encoding) == (TOKEN, ("base64",))
    assert (found.line, found.column) == where(text, payload)


def test_dockerconfigjson_is_base64_of_json_of_base64() -> None:
    auth = b64("robot$ci:" + TOKEN)
    config = b64(json.dumps({"auths": {"registry.example": {"auth": auth}}}))
    text = f"type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {config}\n"
    found = only(scan(text))
    assert (found.secret, found.encoding) == (TOKEN, ("base64", "base64"))
    assert (found.line, found.column) == where(text, config)


def test_nesting_stops_at_the_cap() -> None:
    inner = TOKEN
    for _ in range(MAX_DEPTH):
        inner = b64(json.dumps({"v": inner}))
    assert only(scan(f"x: {inner}\n")).encoding == ("base64",) * MAX_DEPTH
    assert scan(f"x: {b64(json.dumps({'v': inner}))}\n") == []  # one level too deep


def test_plain_and_encoded_copies_are_each_reported_once() -> None:
    text = f"a: {TOKEN}\nb: {b64(TOKEN)}\nc: {b64(TOKEN)}\n"
    found = scan(text)
    assert [(f.line, f.encoding) for f in found] == [(1, ()), (2, ("base64",)), (3, ("base64",))]


def test_a_stream_finds_runs_cut_by_piece_boundaries_at_the_right_lines() -> None:
    filler = "".join(f"line {n}: {'x' * 60}\n" for n in range(3000))
    value = b64("token=" + TOKEN)
    text = filler + f"k: {value}\n" + filler + f"k2: {b64(KEY)}\n"
    whole = scan(text)
    assert [(f.secret, f.line) for f in whole] == [(TOKEN, 3001), (KEY, 6002)]
    for chunk in (1 << 20, 65536 + 7, 4093):
        data = text.encode()
        pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
        read = reader(pieces)
        streamed = list(
            engine.scan_stream(read, Origin("secret.yaml"), Ruleset(), chunk_size=chunk)
        )
        assert streamed == whole
        assert [f.encoding for f in streamed] == [("base64",), ("base64",)]


def stream_of(text: str, chunk: int, path: str = "secret.yaml") -> List[Finding]:
    data = text.encode()
    read = reader([data[i : i + chunk] for i in range(0, len(data), chunk)])
    return list(engine.scan_stream(read, Origin(path), Ruleset(), chunk_size=chunk))


def test_a_stream_reports_each_line_of_a_repeated_encoded_token_as_whole_bytes_do() -> None:
    # The same encoded token on many lines, some in one window, some in the overlap searched
    # twice, some windows apart: one finding per line, in a stream as in whole bytes.
    filler = "".join(f"line {n}: {'x' * 60}\n" for n in range(700))
    text = "".join(f"k{n}: {b64(TOKEN)}\nk{n}b: {b64(TOKEN)}\n{filler}" for n in range(6))
    whole = scan(text)
    assert len(whole) == 12 and {f.secret for f in whole} == {TOKEN}
    for chunk in (1 << 20, 65536 + 7, 4093, 997):
        assert stream_of(text, chunk) == whole


@pytest.mark.parametrize("before", [20_000, 80_000])
def test_a_wrapped_run_longer_than_the_overlap_reports_its_token_once(before: int) -> None:
    # The stream searches such a run again from where the window cut it, a place whole bytes
    # never show: the token found there again is not a second finding.
    value = b64("p=" + "x" * before + " " + TOKEN + " " + "y" * 30_000)
    assert len(value) > unwrap.OVERLAP
    lines = [value[i : i + 64] for i in range(0, len(value), 64)]
    text = "head: 1\n-----BEGIN X-----\n" + "\n".join(lines) + "\n-----END X-----\n"
    whole = scan(text, "c.pem")
    assert [f.secret for f in whole] == [TOKEN]
    for chunk in (1 << 20, 65536 + 7, 4093, 1000):
        assert stream_of(text, chunk, "c.pem") == whole


def test_a_custom_rule_timeout_in_a_decoded_run_is_undecided_not_a_crash() -> None:
    bad = Rule("bad", "bad_", "bad", "whoever", "revoke it", "(ab|a|b)+$")
    ruleset = Ruleset(rules=(*BUILTIN_RULES, bad), timeout=0.05)
    text = f"a: {b64('bad_' + 'ab' * 2000 + '!')}\nb: {b64(TOKEN)}\n"
    undecided: List[engine.Undecided] = []
    found = engine.scan_bytes(text.encode(), Origin("f.yaml"), ruleset, undecided)
    assert [f.secret for f in found] == [TOKEN]
    assert [u.rule_id for u in undecided] == ["bad"]


def test_custom_rule_prefixes_get_their_own_images() -> None:
    rule = Rule("acme", "acme_live_", "Acme key", "whoever", "revoke it")
    token = "acme_live_" + make_token(length=24, seed=5)[len("cp_pat_") :]
    found = engine.scan_bytes(
        f"k: {b64('x:' + token)}\n".encode(), Origin("a.env"), Ruleset(rules=(rule,))
    )
    assert [(f.secret, f.encoding) for f in found] == [(token, ("base64",))]


# --- no false alarms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "placeholder", ["cp_pat_your_token_here", "cp_key_xxxxxxxxxxxxxxxxxxxx", "cp_pat_${TOKEN}"]
)
def test_an_encoded_placeholder_is_still_a_placeholder(placeholder: str) -> None:
    assert scan(f"token: {b64(placeholder)}\nauth: {b64('u:' + placeholder)}\n") == []


@settings(max_examples=150, deadline=None)
@given(blob=st.binary(min_size=1, max_size=3000), url=st.booleans(), width=st.integers(8, 100))
def test_random_base64_without_a_token_finds_nothing(blob: bytes, url: bool, width: int) -> None:
    encoded = (base64.urlsafe_b64encode(blob) if url else base64.b64encode(blob)).decode()
    wrapped = "\n".join(encoded[i : i + width] for i in range(0, len(encoded), width))
    assert scan(f"data: |\n{wrapped}\n") == []


# --- the gate: which inputs pay for which finders ----------------------------------------------


def test_binaries_get_no_finder_wide_text_its_own_code_the_cheap_ones_data_all() -> None:
    assert unwrap.finders_for(b"\x00\x01ELF" + bytes(100), Origin("lib.a")) == ()
    for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        text = "token: abc\n".encode(codec)
        assert unwrap.finders_for(text, Origin("x.txt")) == (escapes.wide_text,), codec
    assert unwrap.finders_for(b"x = 1\n", Origin("src/app.py")) == unwrap.code_finders()
    assert unwrap.finders_for(b"x: 1\n", Origin("a.zip!k8s/secret.YAML")) == unwrap.finders()
    assert unwrap.finders_for(b"x: 1\n", Origin(None)) == unwrap.finders()  # a commit message


def test_source_code_finds_a_token_encoded_alone() -> None:
    text = f'TOKEN = base64.b64decode("{b64(TOKEN)}")\n'
    assert only(scan(text, "settings.py")).secret == TOKEN


def test_the_prefilter_lets_encoded_tokens_through() -> None:
    assert engine.might_contain(b64(TOKEN).encode(), Ruleset(), Origin("a.json"))
    assert not engine.might_contain(b64("hello world").encode(), Ruleset(), Origin("a.json"))


# --- property: random tokens, text, wraps and nesting ------------------------------------------


def _split_image(encoded: str, width: Optional[int]) -> bool:
    """Does a wrap at ``width`` cut an anchor image in two (b64.py's documented limit)?"""
    if width is None:
        return False
    for image in images(Ruleset(), (0, 1, 2)):
        for hit in re.finditer(re.escape(image.text.decode()), encoded):
            if any(hit.start() < cut < hit.end() for cut in range(width, len(encoded), width)):
                return True
    return False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    prefix=st.sampled_from(["cp_pat_", "cp_key_", "cp_oat_"]),
    seed=st.integers(0, 10**6),
    length=st.integers(16, 64),
    before=st.text(alphabet="abc XYZ:=/\n{}\"'", max_size=12),
    after=st.text(alphabet="abc XYZ:=/\n{}\"'", max_size=12),
    depth=st.integers(1, MAX_DEPTH),
    url=st.booleans(),
    width=st.one_of(st.none(), st.integers(16, 100)),
    indent=st.sampled_from(["", "  ", "\t"]),
)
def test_every_encoding_of_a_random_token_is_found(
    prefix: str,
    seed: int,
    length: int,
    before: str,
    after: str,
    depth: int,
    url: bool,
    width: Optional[int],
    indent: str,
) -> None:
    token = make_token(prefix, length, seed)
    inner = b64(f"{before} {token} {after}", url)
    for _ in range(depth - 1):
        inner = b64(json.dumps({"auth": inner}), url)
    if _split_image(inner, width):
        return  # a wrap through the prefix image itself hides it (documented limit)
    lines = (
        [inner] if width is None else [inner[i : i + width] for i in range(0, len(inner), width)]
    )
    text = "kind: Secret\ndata:\n  blob: |\n" + "\n".join(indent + line for line in lines) + "\n"
    found = only(scan(text))
    assert (found.secret, found.encoding) == (token, ("base64",) * depth)
    assert found.line == 4


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 10**6), lead=st.text(alphabet="ab:", max_size=3), url=st.booleans())
def test_an_encoded_placeholder_is_never_found(seed: int, lead: str, url: bool) -> None:
    words = ["your_token_here", "xxxxxxxxxxxxxxxxxxxx", "${COPERA_TOKEN}", "<insert-token-here>"]
    placeholder = "cp_pat_" + words[seed % len(words)]
    assert scan(f"v: {b64(lead + placeholder, url)}\n") == []


# --- reports -----------------------------------------------------------------------------------


def test_every_report_carries_the_encoding_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    auth = b64("u:" + TOKEN)
    config = b64(json.dumps({"auths": {"r": {"auth": auth}}}))
    (tmp_path / "secret.yaml").write_text(f"data:\n  .dockerconfigjson: {config}\n")
    (tmp_path / "plain.env").write_text(f"T={KEY}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "--format", "json", "."]) == 1
    report = json.loads(capsys.readouterr().out)
    chains = {f["path"]: f["encoding"] for f in report["findings"]}
    assert chains == {"secret.yaml": ["base64", "base64"], "plain.env": []}
    assert main(["scan", "--format", "sarif", "."]) == 1
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    encoded = [r for r in results if "encoding" in r["properties"]]
    assert [r["properties"]["encoding"] for r in encoded] == [["base64", "base64"]]
    assert "encoded as base64 → base64" in encoded[0]["message"]["text"]
    assert main(["scan", "."]) == 1
    out = capsys.readouterr().out
    assert "(base64 → base64) (copera-pat)" in out
    assert config not in out and auth not in out and TOKEN not in out  # the line is masked


# --- the lean hook check -----------------------------------------------------------------------


@pytest.mark.parametrize("lead", ["", "u:", "ab:", '{"a":"'])
def test_the_lean_hook_check_hands_encoded_tokens_to_the_full_scan(lead: str) -> None:
    from copera_secretscan import quick

    data = f"k: {b64(lead + TOKEN)}\n".encode()
    assert not quick.stream_clean(reader([data]))
    one_byte_reads = reader([data[i : i + 1] for i in range(len(data))])
    assert not quick.stream_clean(one_byte_reads)  # an image split across reads is still seen
    assert quick.stream_clean(reader([f"k: {b64('hello world, no token')}\n".encode()]))


@pytest.mark.parametrize("unit", ["Y3Bf", "NwXjcF", "Y3Bf\n", "eyJ ", "eyJ" + "A" * 30 + " "])
def test_a_fifth_of_a_megabyte_of_anchor_images_is_searched_in_bounded_time(unit: str) -> None:
    data = (unit * (200_000 // len(unit))).encode()
    began = time.process_time()
    assert engine.scan_bytes(data, Origin("hostile.json"), Ruleset()) == []
    assert time.process_time() - began < 10  # linear: quadratic would take hours
