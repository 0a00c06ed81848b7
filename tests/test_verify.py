"""``scan --verify`` against a local stand-in for the Copera API on 127.0.0.1.

The stand-in answers per token (200, 401, 429 then 200, 429 forever, 500, too slow, a redirect
to another server) and records every request, so the tests can say what was sent where, how
often, and that no raw token ever reaches an output.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Dict, Iterator, List, NamedTuple, Tuple

import pytest

from copera_secretscan import verify as verify_module
from copera_secretscan.cli.main import main
from copera_secretscan.errors import FatalError
from copera_secretscan.report import FORMATS
from tests.conftest import commit_all
from tests.report_samples import validate_gitlab, validate_junit, validate_sarif
from tests.tokens import make_token

BASE_PATH = "/public/v1"
SLOW = 3.0  # seconds the slow answer takes; the tests wait 0.5 s at most
TIMEOUT = ["--verify-timeout", "0.5"]


class Seen(NamedTuple):
    path: str
    authorization: str
    user_agent: str


class StandIn(NamedTuple):
    """A running local server: its base URL, what it saw, and how it answers each token."""

    base: str
    seen: List[Seen]
    answers: Dict[str, Callable[[BaseHTTPRequestHandler, int], None]]

    def asked(self, token: str) -> int:
        return sum(1 for one in self.seen if one.authorization == f"Bearer {token}")


def _status(code: int, headers: Tuple[Tuple[str, str], ...] = ()) -> Callable[..., None]:
    def answer(handler: BaseHTTPRequestHandler, _: int) -> None:
        handler.send_response(code)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"{}")

    return answer


def _limited_then(code: int) -> Callable[..., None]:
    def answer(handler: BaseHTTPRequestHandler, attempt: int) -> None:
        _status(429, (("Retry-After", "0"),))(handler, attempt) if attempt == 1 else _status(code)(
            handler, attempt
        )

    return answer


def _slow(handler: BaseHTTPRequestHandler, attempt: int) -> None:
    time.sleep(SLOW)
    with contextlib.suppress(OSError):  # the client gave up long ago
        _status(200)(handler, attempt)


@pytest.fixture
def serve() -> Iterator[Callable[[], StandIn]]:
    """Start stand-ins on 127.0.0.1 (as many as a test needs); stop them afterwards."""
    servers: List[ThreadingHTTPServer] = []

    def start() -> StandIn:
        seen: List[Seen] = []
        answers: Dict[str, Callable[[BaseHTTPRequestHandler, int], None]] = {}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization", "")
                with lock:
                    seen.append(Seen(self.path, auth, self.headers.get("User-Agent", "")))
                    attempt = sum(1 for one in seen if one.authorization == auth)
                token = auth.removeprefix("Bearer ")
                answers.get(token, _status(404))(self, attempt)

            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return StandIn(f"http://127.0.0.1:{server.server_port}{BASE_PATH}", seen, answers)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


OUTCOMES = ("live", "invalid", "backoff", "limited", "broken", "slow", "redirected")


@pytest.fixture
def tokens() -> Dict[str, str]:
    """One fake token per outcome, of all three kinds."""
    prefixes = ("cp_pat_", "cp_key_", "cp_oat_")
    return {name: make_token(prefixes[n % 3], 32, seed=70 + n) for n, name in enumerate(OUTCOMES)}


@pytest.fixture
def api(serve: Callable[[], StandIn], tokens: Dict[str, str]) -> Tuple[StandIn, StandIn]:
    """The stand-in answering each outcome's token its way, and the other host it redirects to."""
    api, elsewhere = serve(), serve()
    elsewhere.answers[tokens["redirected"]] = _status(200)
    api.answers.update(
        {
            tokens["live"]: _status(200),
            tokens["invalid"]: _status(401),
            tokens["backoff"]: _limited_then(200),
            tokens["limited"]: _status(429, (("Retry-After", "0"),)),
            tokens["broken"]: _status(500),
            tokens["slow"]: _slow,
            tokens["redirected"]: _status(
                302, (("Location", elsewhere.base + "/board/list-boards"),)
            ),
        }
    )
    return api, elsewhere


def plant(repo: Path, tokens: Dict[str, str]) -> None:
    """Each token in its own file; the live one in two files, so it is found twice."""
    for name, token in tokens.items():
        (repo / f"{name}.env").write_text(f"COPERA_TOKEN={token}\n")
    if "live" in tokens:
        (repo / "copy.env").write_text(f"AGAIN={tokens['live']}\n")


def run(args: List[str], capsys: pytest.CaptureFixture[str]) -> Tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def scan_json(
    repo: Path, base: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> Tuple[int, Dict[str, dict]]:
    """Exit code and the JSON findings keyed by file name."""
    args = ["scan", "--verify", "--api-url", base, *TIMEOUT, "-f", "json", *extra, "."]
    code, out, _ = run(args, capsys)
    findings = json.loads(out)["findings"]
    return code, {Path(f["path"]).stem: f for f in findings}


def test_each_outcome_is_labelled_and_each_token_asked_once(
    repo: Path,
    api: Tuple[StandIn, StandIn],
    tokens: Dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    stand_in, elsewhere = api
    plant(repo, tokens)
    code, found = scan_json(repo, stand_in.base, capsys)
    assert code == 1
    said = {name: (f["verification"], f["verification_detail"]) for name, f in found.items()}
    assert said == {
        "live": ("live", "HTTP 200"),
        "copy": ("live", "HTTP 200"),
        "invalid": ("invalid", "HTTP 401"),
        "backoff": ("live", "HTTP 200"),  # a 429 with Retry-After, then a 200
        "limited": ("unknown", "rate limited (HTTP 429)"),
        "broken": ("unknown", "HTTP 500"),
        "slow": ("unknown", "timed out"),
        "redirected": ("unknown", "HTTP 302: redirect not followed"),
    }
    asked = {name: stand_in.asked(token) for name, token in tokens.items()}
    once = dict.fromkeys(OUTCOMES, 1)  # the live token sits in two files: asked once
    assert asked == {**once, "backoff": 2, "limited": verify_module.RETRIES + 1}
    assert {one.path for one in stand_in.seen} == {f"{BASE_PATH}/board/list-boards"}
    assert {one.user_agent for one in stand_in.seen} == {verify_module.USER_AGENT}
    assert elsewhere.seen == []  # the redirect was not followed to the other host


def test_live_tokens_come_first_and_every_format_says_what_copera_said(
    repo: Path,
    api: Tuple[StandIn, StandIn],
    tokens: Dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    stand_in, _ = api
    plant(repo, tokens)
    reports = [f"--report={fmt}:out/report.{fmt}" for fmt in FORMATS]
    args = ["scan", "--verify", "--api-url", stand_in.base, *TIMEOUT, *reports, "."]
    code, out, err = run(args, capsys)
    assert code == 1
    written = {fmt: (repo / "out" / f"report.{fmt}").read_text() for fmt in FORMATS}
    for text in (out, err, *written.values()):
        assert not any(token in text for token in tokens.values())  # redacted, every outcome
    heads = [line for line in out.splitlines() if line.endswith(")") and ".env:1:" in line]
    assert [Path(line.split(":")[0]).stem for line in heads[:3]] == ["backoff", "copy", "live"]
    assert "   copera: live: revoke it first" in out
    assert "   copera: invalid: Copera refused it" in out
    assert "   copera: unknown: timed out" in out
    assert "Copera says: 2 live, 1 invalid, 4 unknown." in out  # tokens, not places
    for fmt in ("github", "gitlab", "junit"):
        assert "live: revoke it first" in written[fmt], fmt
        assert "unknown: HTTP 500" in written[fmt], fmt
    sarif = json.loads(written["sarif"])
    validate_sarif(sarif)
    validate_gitlab(json.loads(written["gitlab"]))
    validate_junit(written["junit"])
    states = [r["properties"]["verification"] for r in sarif["runs"][0]["results"]]
    assert sorted(states) == sorted(["live"] * 3 + ["invalid"] + ["unknown"] * 4)


def test_history_report_says_it_per_token(
    repo: Path, serve: Callable[[], StandIn], capsys: pytest.CaptureFixture[str]
) -> None:
    stand_in = serve()
    live, dead = make_token("cp_pat_", 32, seed=90), make_token("cp_key_", 32, seed=91)
    stand_in.answers.update({live: _status(200), dead: _status(401)})
    (repo / "old.env").write_text(f"A={dead}\n")
    commit_all(repo, "first")
    (repo / "new.env").write_text(f"B={live}\n")
    commit_all(repo, "second")
    code, out, err = run(["scan", "--history", "--verify", "--api-url", stand_in.base], capsys)
    assert code == 1
    assert live not in out + err and dead not in out + err
    assert out.index("copera: live: revoke it first") < out.index("copera: invalid")
    assert "Copera says: 1 live, 1 invalid." in out


def test_without_verify_nothing_is_sent(
    repo: Path,
    api: Tuple[StandIn, StandIn],
    tokens: Dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stand_in, _ = api
    plant(repo, tokens)
    monkeypatch.setenv("COPERA_API_URL", stand_in.base)  # set, but nobody asked to verify
    code, out, _ = run(["scan", "-f", "json", "."], capsys)
    assert code == 1
    assert stand_in.seen == []
    assert all("verification" not in f for f in json.loads(out)["findings"])
    code, _, _ = run(["scan", "-f", "sarif", "."], capsys)
    assert code == 1 and stand_in.seen == []


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        (("invalid",), 0),  # Copera refused every token: nothing live to fail on
        (("invalid", "live"), 1),
        (("invalid", "broken"), 1),  # unknown fails closed
        (("slow",), 1),
    ],
)
def test_only_verified_fails_on_live_and_unknown_tokens_only(
    repo: Path,
    api: Tuple[StandIn, StandIn],
    tokens: Dict[str, str],
    capsys: pytest.CaptureFixture[str],
    planted: Tuple[str, ...],
    expected: int,
) -> None:
    plant(repo, {name: tokens[name] for name in planted})
    code, found = scan_json(repo, api[0].base, capsys, "--only-verified")
    assert code == expected
    assert {name for name in found if name != "copy"} == set(planted)  # every token reported


def test_only_verified_needs_verify(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for extra in (["--only-verified"], ["--api-url", "https://example.com"]):
        code, _, err = run(["scan", *extra, "."], capsys)
        assert code == 2
        assert err.count("\n") == 1 and "needs --verify" in err


@pytest.mark.parametrize(
    "url", ["http://example.com/public/v1", "http://10.0.0.1/x", "ftp://127.0.0.1/", "nohost"]
)
def test_plain_http_elsewhere_is_refused_before_anything_is_sent(
    repo: Path,
    url: str,
    token: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (repo / "a.env").write_text(f"T={token}\n")
    sent: List[str] = []
    monkeypatch.setattr(verify_module, "ask_all", lambda found, _: sent.extend(found) or {})
    for how in (["--api-url", url], []):
        monkeypatch.setenv("COPERA_API_URL", url)
        code, out, err = run(["scan", "--verify", *how, "."], capsys)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("copera-secretscan: error: --api-url:")
        assert "Traceback" not in err and token not in err
    assert sent == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/v1",
        "http://127.3.2.1/",
        "http://[::1]:9/v1",
        "http://localhost/",
        "https://api.copera.ai/public/v1/",
    ],
)
def test_https_anywhere_and_http_to_loopback_are_accepted(url: str) -> None:
    assert verify_module.check_base(url) == url.rstrip("/")


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(FatalError):
        verify_module.check_base("https://user:pw@api.copera.ai/public/v1")


@pytest.mark.parametrize("key", ["api_url = 'http://127.0.0.1:1/'", "verify = true"])
def test_a_config_cannot_turn_verification_on_or_point_it_elsewhere(
    repo: Path, key: str, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A repository's config must never be able to send its reader's tokens anywhere."""
    (repo / ".copera-secretscan.toml").write_text(key + "\n")
    (repo / "a.env").write_text(f"T={token}\n")
    code, _, err = run(["scan", "."], capsys)
    assert code == 2
    assert "unknown key" in err and key.split(" ")[0] in err


def test_custom_rule_tokens_are_never_sent(
    repo: Path, serve: Callable[[], StandIn], capsys: pytest.CaptureFixture[str]
) -> None:
    """A custom rule's token may be anyone's: only Copera's own kinds go to Copera."""
    stand_in = serve()
    (repo / ".copera-secretscan.toml").write_text(
        '[[rules]]\nid = "acme"\nprefix = "acme_"\ndescription = "Acme key"\n'
    )
    (repo / "a.env").write_text("K=acme_" + make_token("cp_pat_", 32, seed=5)[7:] + "\n")
    code, found = scan_json(repo, stand_in.base, capsys, "--only-verified")
    assert code == 1  # not checked, so not waved through
    assert "verification" not in found["a"]
    assert stand_in.seen == []


def test_verify_from_a_real_process(
    repo: Path, serve: Callable[[], StandIn], capsys: pytest.CaptureFixture[str]
) -> None:
    stand_in = serve()
    live = make_token("cp_oat_", 32, seed=99)
    stand_in.answers[live] = _status(200)
    (repo / "mcp.json").write_text(json.dumps({"token": live}))
    env = dict(os.environ, COPERA_API_URL=stand_in.base)
    proc = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", "--verify", "-f", "json", "."],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    assert live not in proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["verification"] == "live"
    assert stand_in.asked(live) == 1
