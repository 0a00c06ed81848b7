"""The scan command's contract: exit codes, redaction, streams, formats, colour, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from copera_secretscan import __version__
from copera_secretscan.cli.main import cli, main
from copera_secretscan.cli.terminal import use_color
from tests.conftest import cli_runner
from tests.tokens import make_token


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "copera_secretscan", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def leaky(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    token = make_token("cp_pat_", 32, seed=21)
    (tmp_path / "app.env").write_text(f"# config\nCOPERA_TOKEN={token}\n")
    return token


def test_clean_scan_exits_0_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("nothing\n")
    result = cli_runner().invoke(cli, ["scan"])
    assert result.exit_code == 0
    assert result.output == "No Copera tokens found (1 file scanned).\n"


def test_quiet_clean_scan_prints_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("nothing\n")
    result = cli_runner().invoke(cli, ["scan", "--quiet"])
    assert (result.exit_code, result.output) == (0, "")


def test_finding_exits_1_redacted_with_location_and_advice(leaky: str) -> None:
    result = cli_runner().invoke(cli, ["scan"])
    assert result.exit_code == 1
    assert "app.env:2:14: Copera Personal Access Token (copera-pat)" in result.output
    assert leaky not in result.output
    assert leaky[:11] + "…" in result.output
    assert "Workspace Settings → Integrations → Personal Tokens" in result.output
    assert "Found 1 Copera token" in result.output


def test_show_secrets_reveals_the_token(leaky: str) -> None:
    result = cli_runner().invoke(cli, ["scan", "--show-secrets"])
    assert result.exit_code == 1
    assert leaky in result.output


def test_exit_code_reaches_the_shell(leaky: str) -> None:
    """click ignores return values in standalone mode; the process must still exit 1."""
    proc = run("scan")
    assert proc.returncode == 1
    assert proc.stderr == ""


def test_missing_file_exits_2_with_one_line_error(tmp_path: Path) -> None:
    proc = run("scan", str(tmp_path / "nope.txt"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"copera-secretscan: error: {(tmp_path / 'nope.txt').as_posix()}: no such file or directory"
    ]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "Scan incomplete" in proc.stdout


def test_finding_and_error_exits_1_and_prints_the_error(leaky: str) -> None:
    proc = run("scan", "app.env", "missing.txt")
    assert proc.returncode == 1
    assert "missing.txt: no such file or directory" in proc.stderr
    assert "app.env:2:14" in proc.stdout


def test_stdin_is_scanned_with_dash() -> None:
    token = make_token("cp_key_", 24, seed=22)
    proc = run("scan", "-f", "json", "-", stdin=f"first\nsecond {token}\n")
    assert proc.returncode == 1
    [finding] = json.loads(proc.stdout)["findings"]
    assert (finding["path"], finding["line"], finding["column"]) == ("-", 2, 8)


def test_json_report_shape(leaky: str) -> None:
    result = cli_runner().invoke(cli, ["scan", "--format", "json"])
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert report["version"] == 1
    assert report["errors"] == []
    assert report["stats"]["files"] == 1
    [finding] = report["findings"]
    assert finding == {
        "rule_id": "copera-pat",
        "path": "app.env",
        "line": 2,
        "column": 14,
        "end_line": 2,
        "end_column": 14 + len(leaky),
        "secret": leaky[:11] + "…",
        "fingerprint": finding["fingerprint"],
        "commit": None,
        "location": "content",
        "encoding": [],  # plain text: no decoding found it
        "remediation": finding["remediation"],
    }
    assert len(finding["fingerprint"]) == 32
    revoke, *rest = finding["remediation"]  # where to revoke a PAT first, then the repository
    assert "Workspace Settings → Integrations → Personal Tokens" in revoke and len(rest) == 3


def test_output_file_gets_the_report_and_stdout_stays_empty(leaky: str, tmp_path: Path) -> None:
    result = cli_runner().invoke(cli, ["scan", "-f", "json", "-o", "report.json", "app.env"])
    assert result.exit_code == 1
    assert result.output == ""
    assert json.loads((tmp_path / "report.json").read_text())["findings"][0]["line"] == 2


def test_color_only_when_asked_or_on_a_terminal(
    leaky: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm")  # TERM=dumb means no colour (tests/test_cli_consistency)
    assert "\033[" in cli_runner().invoke(cli, ["scan", "--color"]).output
    assert "\033[" not in cli_runner().invoke(cli, ["scan"]).output  # not a terminal
    assert use_color(Tty()) is True  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(Tty()) is False  # type: ignore[arg-type]


def test_usage_error_exits_2() -> None:
    assert main(["scan", "--format", "nonsense"]) == 2
    assert main(["frobnicate"]) == 2


def test_version_and_help() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert __version__ in proc.stdout
    help_text = run("scan", "--help").stdout
    assert "--show-secrets" in help_text
    assert "Exit codes" in run("--help").stdout


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    """Interrupted is not 'found': 130, as shells report SIGINT, not click's 1."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "copera_secretscan", "scan", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.5)  # let it start and block reading stdin
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert "Traceback" not in err


def test_broken_pipe_is_quiet(tmp_path: Path) -> None:
    for i in range(300):
        (tmp_path / f"f{i}.env").write_text(f"T={make_token('cp_pat_', 32, seed=i)}\n")
    shell = f"{sys.executable} -m copera_secretscan scan {tmp_path} | head -1"
    proc = subprocess.run(shell, shell=True, capture_output=True, text=True, env=dict(os.environ))
    assert "Traceback" not in proc.stderr


def test_a_second_token_on_the_line_is_masked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first, second = make_token("cp_pat_", 32, seed=41), make_token("cp_key_", 32, seed=42)
    (tmp_path / "two.env").write_text(f"A={first} B={second} C=cp_oat_shortish\n")
    result = cli_runner().invoke(cli, ["scan"])
    assert result.exit_code == 1
    assert first not in result.output
    assert second not in result.output
    assert result.output.count("line: A=cp_pat_") == 2
