"""``baseline audit``: the interactive walk (driven through CliRunner) and the CI report."""

from __future__ import annotations

import datetime
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from copera_secretscan.cli.main import cli, main
from tests.conftest import cli_runner
from tests.tokens import make_token

BASELINE = ".copera-secretscan-baseline.json"


def entries(repo: Path) -> Dict[str, Dict[str, Any]]:
    return {e["path"]: e for e in json.loads((repo / BASELINE).read_text())["entries"]}


@pytest.fixture
def tokens() -> List[str]:
    return [
        make_token("cp_pat_", 32, seed=200),
        make_token("cp_key_", 40, seed=201),
        make_token("cp_oat_", 36, seed=202),
    ]


@pytest.fixture
def adopted(repo: Path, tokens: List[str]) -> Path:
    (repo / "a.py").write_text(
        "import os\n\n# the old integration\n"
        f"KEY = '{tokens[0]}'  # and again: {tokens[0]}\nprint(KEY)\n\n\n"
    )
    (repo / "b.env").write_text(f"COPERA={tokens[1]}\n")
    (repo / "c.md").write_text(f"see `{tokens[2]}`\n")
    assert main(["baseline", "create"]) == 0
    return repo


def audit(*args: str, input: str) -> Any:
    return cli_runner().invoke(cli, ["baseline", "audit", *args], input=input)


def test_audit_records_decisions_and_reasons(adopted: Path, tokens: List[str]) -> None:
    result = audit(input="r\nrotating, INC-42\n\nf\ntest fixture\n\ns\n")

    assert result.exit_code == 0, result.output
    assert not any(token in result.output for token in tokens)
    recorded = entries(adopted)
    assert recorded["a.py"]["decision"] == "leak"
    assert recorded["a.py"]["reason"] == "rotating, INC-42"
    assert recorded["b.env"]["decision"] == "false-positive"
    assert recorded["b.env"]["reason"] == "test fixture"
    assert "decision" not in recorded["c.md"]
    assert result.output.rstrip().endswith(f"{BASELINE}: 3 entries, 2 audited.")


def test_audit_shows_the_masked_line_in_context(adopted: Path, tokens: List[str]) -> None:
    result = audit(input="q\n")
    shown = tokens[0][:11] + "…"
    assert f"[1/3] a.py:4  copera-pat  {shown}" in result.output
    assert "    2 | \n    3 | # the old integration\n" in result.output
    assert f"  > 4 | KEY = '{shown}'  # and again: {shown}\n    5 | print(KEY)\n    6 | \n" in (
        result.output
    )
    assert "    decision: undecided" in result.output
    assert "Real leak to rotate (r), false positive (f), skip (s), quit (q)?" in result.output


def test_quit_keeps_earlier_answers_and_asks_nothing_more(adopted: Path) -> None:
    result = audit(input="f\n\n\nq\n")
    assert result.exit_code == 0
    assert "[2/3]" in result.output and "[3/3]" not in result.output
    assert entries(adopted)["a.py"]["decision"] == "false-positive"
    assert "reason" not in entries(adopted)["a.py"]  # an empty reason is not recorded


def test_bad_answer_is_asked_again(adopted: Path) -> None:
    result = audit(input="maybe\nf\n\nq\n")
    assert "Error: 'maybe' is not one of 'r', 'f', 's', 'q'." in result.output
    assert entries(adopted)["a.py"]["decision"] == "false-positive"


def test_decided_entries_are_skipped_unless_all(adopted: Path) -> None:
    audit(input="f\n\n\n" * 3)
    again = audit(input="")
    assert again.exit_code == 0
    assert "[1/" not in again.output
    everything = audit("--all", input="r\nreal after all\n\nq\n")
    assert "[1/3] a.py:4" in everything.output
    assert "decision: false positive" in everything.output
    assert entries(adopted)["a.py"]["decision"] == "leak"
    assert entries(adopted)["b.env"]["decision"] == "false-positive"


def test_entry_no_longer_found_is_shown_as_stale(adopted: Path) -> None:
    (adopted / "a.py").write_text("import os\n")
    result = audit(input="s\nq\n")
    assert "[1/3] a.py  copera-pat" in result.output
    assert "(no longer found in this file: stale; 'baseline update' drops it)" in result.output


def test_audit_of_a_corrupt_baseline_is_an_error(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (adopted / BASELINE).write_text('{"version": 1}')
    assert main(["baseline", "audit"]) == 2
    assert f"{BASELINE}: corrupt baseline: expected exactly the keys" in capsys.readouterr().err


# --- the report for CI ------------------------------------------------------------------


def report(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["baseline", "audit", "--report"])
    return code, capsys.readouterr().out


def test_report_lists_every_entry_without_prompting(
    adopted: Path, tokens: List[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = report(capsys)
    ids = {path: f"(entry {entry['hash'][:12]})" for path, entry in entries(adopted).items()}
    assert code == 0
    assert out.splitlines() == [
        f"a.py:4  copera-pat  {tokens[0][:11]}…  undecided  [present]  {ids['a.py']}",
        f"b.env:1  copera-key  {tokens[1][:11]}…  undecided  [present]  {ids['b.env']}",
        f"c.md:1  copera-oat  {tokens[2][:11]}…  undecided  [present]  {ids['c.md']}",
        "baseline: 3 entries: 0 real leaks, 0 false positives, 3 undecided, 0 stale.",
    ]


def test_report_fails_while_a_real_leak_is_still_present(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit(input="r\nrotating\n\nf\n\n\nq\n")
    code, out = report(capsys)
    assert code == 1
    assert "a.py:4  copera-pat  cp_pat_" in out
    assert "real leak, to rotate  [present]; reason: rotating" in out
    assert out.rstrip().endswith(
        "1 real leak, 1 false positive, 1 undecided, 0 stale; 1 needs attention."
    )
    (adopted / "a.py").write_text("KEY = os.environ['COPERA_KEY']\n")  # removed after rotation
    code, out = report(capsys)
    assert code == 0
    assert "a.py  copera-pat  cp_pat_" in out and "[STALE: no longer found]" in out


def test_report_fails_on_an_expired_entry(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads((adopted / BASELINE).read_text())
    doc["entries"][1].update(decision="false-positive", expires="2001-02-03")
    (adopted / BASELINE).write_text(json.dumps(doc))
    code, out = report(capsys)
    assert code == 1
    assert "b.env:1  copera-key" in out
    assert "false positive  [present, EXPIRED]; expires 2001-02-03" in out


def test_every_token_near_the_entry_is_masked(adopted: Path, tokens: List[str]) -> None:
    newer = make_token("cp_pat_", 32, seed=203)  # not in the baseline, but on a context line
    (adopted / "b.env").write_text(f"COPERA={tokens[1]}\nNEWER={newer}\n")
    result = audit(input="s\ns\nq\n")
    assert tokens[1] not in result.output and newer not in result.output
    assert f"    2 | NEWER={newer[:11]}…" in result.output


# --- end of input: a stop like q, never taken for Ctrl-C, never a pass -------------------


def audit_main(*args: str, input: str) -> Tuple[int, str, str]:
    """``cli.main`` (exit-code mapping included) with standard input fed by CliRunner."""
    with cli_runner().isolation(input=input) as streams:
        code = main(["baseline", "audit", *args])
        return code, streams[0].getvalue().decode(), streams[1].getvalue().decode()


def ended(left: int, of: int = 3) -> str:
    return (
        f"copera-secretscan: error: standard input ended with {left} of {of} entries not "
        "audited; the answers given are saved (in CI, use 'baseline audit --report')\n"
    )


def test_end_of_input_stops_like_quit_keeps_answers_and_exits_2(adopted: Path) -> None:
    code, out, err = audit_main(input="f\nfixture\n\n")
    assert (code, err) == (2, ended(2))
    assert "[2/3]" in out and "[3/3]" not in out
    assert entries(adopted)["a.py"]["decision"] == "false-positive"
    assert entries(adopted)["a.py"]["reason"] == "fixture"


def test_end_of_input_at_the_reason_still_records_the_decision(adopted: Path) -> None:
    code, _, err = audit_main(input="s\nr\n")
    assert (code, err) == (2, ended(1))
    assert entries(adopted)["b.env"]["decision"] == "leak"
    assert "reason" not in entries(adopted)["b.env"]
    assert "decision" not in entries(adopted)["a.py"]


def test_no_input_at_all_changes_nothing_and_exits_2(adopted: Path) -> None:
    before = (adopted / BASELINE).read_bytes()
    code, out, err = audit_main(input="")
    assert (code, err) == (2, ended(3))
    assert "interrupted" not in out + err
    assert (adopted / BASELINE).read_bytes() == before


def test_answering_every_entry_then_end_of_input_is_complete(adopted: Path) -> None:
    code, _, err = audit_main(input="f\n\n\nr\nrotate\n\ns\n")
    assert (code, err) == (0, "")


def test_ctrl_c_at_a_question_is_still_an_interruption(
    adopted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class PressedCtrlC:
        closed = False

        def readline(self) -> str:
            raise KeyboardInterrupt

    with cli_runner().isolation(input="") as streams:
        monkeypatch.setattr("sys.stdin", PressedCtrlC())
        code = main(["baseline", "audit"])
        stderr = streams[1].getvalue()  # click 8.1 closes the streams on leaving
    # click ends the unfinished prompt line on stderr first, as at a terminal after ^C
    assert (code, stderr.lstrip(b"\n")) == (130, b"copera-secretscan: interrupted\n")


@pytest.mark.parametrize("stdin", ["< /dev/null", "<&-"])
def test_audit_with_no_terminal_fails_and_points_at_report(adopted: Path, stdin: str) -> None:
    command = f"{shlex.quote(sys.executable)} -m copera_secretscan baseline audit {stdin}"
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (2, ended(3))
    assert "Traceback" not in proc.stdout


# --- where an entry's file is -------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [b"caf\xe9.env", b"line\nbreak.env", b"esc\x1b[31m.env", b"back\\nslash.env"]
)
def test_report_finds_a_leak_in_a_file_whose_name_is_stored_escaped(
    repo: Path, capsys: pytest.CaptureFixture[str], name: bytes
) -> None:
    """Odd names are stored as git quotes them; calling them stale let a real leak pass CI."""
    with open(os.path.join(os.fsencode(repo), name), "wb") as handle:
        handle.write(f"T={make_token('cp_pat_', 32, seed=210)}\n".encode())
    assert main(["baseline", "create"]) == 0
    doc = json.loads((repo / BASELINE).read_text())
    doc["entries"][0]["decision"] = "leak"
    (repo / BASELINE).write_text(json.dumps(doc))
    capsys.readouterr()
    code, out = report(capsys)
    assert code == 1, out
    assert "[present]" in out and "STALE" not in out


def test_an_entry_naming_a_device_or_fifo_is_stale_not_read_forever(repo: Path) -> None:
    os.mkfifo(repo / "pipe.env")
    salt = "a" * 64
    paths = ["/dev/zero", "pipe.env", "../../../../../../../dev/zero"]
    entries = [
        {"hash": f"{i:064x}", "path": p, "redacted": "cp_pat_x…", "rule_id": "copera-pat"}
        for i, p in enumerate(paths)
    ]
    (repo / BASELINE).write_text(json.dumps({"version": 1, "salt": salt, "entries": entries}))
    proc = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "baseline", "audit", "--report"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.count("STALE") == 3


# --- reasons, expiries and dates (issue 12) ------------------------------------------------


def test_audit_asks_an_expiry_and_records_the_day_of_the_decision(adopted: Path) -> None:
    result = audit(input="r\nrotating\n2031-04-30\nq\n")
    assert result.exit_code == 0, result.output
    assert "Expires on YYYY-MM-DD (optional): " in result.output
    recorded = entries(adopted)["a.py"]
    assert (recorded["reason"], recorded["expires"]) == ("rotating", "2031-04-30")
    assert recorded["decided"] == datetime.date.today().isoformat()


def test_audit_changes_a_reason_and_expiry_with_the_current_ones_as_defaults(
    adopted: Path,
) -> None:
    audit(input="r\nrotating\n2031-04-30\nq\n")
    before = (adopted / BASELINE).read_bytes()
    same = audit("--all", input="r\n\n\nq\n")  # Enter keeps both: not a byte changes
    assert "Reason (optional) [rotating; - removes it]: " in same.output
    assert "Expires on YYYY-MM-DD (optional) [2031-04-30; - removes it]: " in same.output
    assert (adopted / BASELINE).read_bytes() == before
    audit("--all", input="r\nrotated, key revoked\n2032-01-15\nq\n")
    assert entries(adopted)["a.py"]["reason"] == "rotated, key revoked"
    assert entries(adopted)["a.py"]["expires"] == "2032-01-15"
    audit("--all", input="r\n-\n-\nq\n")
    assert "reason" not in entries(adopted)["a.py"] and "expires" not in entries(adopted)["a.py"]


def test_a_bad_expiry_is_one_line_and_asked_again(adopted: Path) -> None:
    result = audit(input="f\nfixture\n2031-02-30\n31/01/2031\n2031-01-31\nq\n")
    assert result.exit_code == 0
    error = "Error: '2031-02-30' is not a date as YYYY-MM-DD (- removes the expiry).\n"
    assert error in result.output
    assert "Error: '31/01/2031' is not a date" in result.output
    assert entries(adopted)["a.py"]["expires"] == "2031-01-31"


def test_the_same_decision_again_keeps_its_day_a_new_one_is_dated(adopted: Path) -> None:
    doc = json.loads((adopted / BASELINE).read_text())
    doc["entries"][0].update(decision="leak", decided="2020-01-02")
    (adopted / BASELINE).write_text(json.dumps(doc))
    audit("--all", input="r\n\n\nq\n")
    assert entries(adopted)["a.py"]["decided"] == "2020-01-02"
    audit("--all", input="f\n\n\nq\n")
    assert entries(adopted)["a.py"]["decided"] == datetime.date.today().isoformat()


def entry_id(repo: Path, path: str) -> str:
    return str(entries(repo)[path]["hash"][:12])


def test_entry_options_set_and_change_one_entry_without_prompting(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = entry_id(adopted, "b.env")[:8]
    args = ["--entry", prefix, "--set-decision", "leak", "--set-reason", "INC-9"]
    assert main(["baseline", "audit", *args, "--set-expires", "2031-06-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{BASELINE}: entry {entry_id(adopted, 'b.env')}: b.env  copera-key")
    recorded = entries(adopted)["b.env"]
    assert (recorded["decision"], recorded["reason"]) == ("leak", "INC-9")
    assert (recorded["expires"], recorded["decided"]) == ("2031-06-01", str(datetime.date.today()))
    assert main(["baseline", "audit", "--entry", prefix, "--set-expires", "-"]) == 0
    assert "expires" not in entries(adopted)["b.env"]
    assert entries(adopted)["b.env"]["reason"] == "INC-9"  # what was not given is kept
    assert "decision" not in entries(adopted)["a.py"]  # and no other entry moved


def test_entry_ids_are_shown_by_the_audit_and_its_report(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "a.py:4  copera-pat  cp_pat_" in audit(input="q\n").output
    assert f"entry {entry_id(adopted, 'a.py')}" in audit(input="q\n").output
    _, out = report(capsys)
    assert f"(entry {entry_id(adopted, 'c.md')})" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--entry", "PREFIX", "--set-expires", "2031-13-01"],
            "--set-expires: '2031-13-01' is not a date as YYYY-MM-DD (- removes the expiry)",
        ),
        (["--entry", "ffffffffffff", "--set-reason", "x"], "--entry: no baseline entry's hash"),
        (["--entry", "", "--set-reason", "x"], "--entry: empty value"),
        (["--set-reason", "x"], "--set-decision, --set-reason and --set-expires need --entry"),
        (["--entry", "PREFIX"], "--entry takes --set-decision, --set-reason or --set-expires"),
        (["--entry", "PREFIX", "--report", "--set-reason", "x"], "--entry takes"),
        (["--entry", "PREFIX", "--set-decision", "maybe"], "'maybe' is not one of"),
    ],
)
def test_a_bad_entry_change_is_one_line_exit_2_and_writes_nothing(
    adopted: Path, capsys: pytest.CaptureFixture[str], args: List[str], message: str
) -> None:
    before = (adopted / BASELINE).read_bytes()
    args = [entry_id(adopted, "a.py") if arg == "PREFIX" else arg for arg in args]
    code, out, err = audit_main(*args, input="")
    assert code == 2 and out == ""
    assert err.startswith("copera-secretscan: error: ") and message in err, err
    assert len(err.splitlines()) == 1
    assert (adopted / BASELINE).read_bytes() == before


def test_a_prefix_that_names_several_entries_is_refused(adopted: Path) -> None:
    doc = json.loads((adopted / BASELINE).read_text())
    for index, entry in enumerate(doc["entries"][:2]):
        entry["hash"] = "ab" + str(index) * 62  # two hand-edited hashes sharing "ab"
    (adopted / BASELINE).write_text(json.dumps(doc))
    code, _, err = audit_main("--entry", "AB", "--set-reason", "x", input="")
    assert (code, err) == (
        2,
        "copera-secretscan: error: --entry: 'AB' starts the hash of 2 entries; give more digits\n",
    )
    assert audit_main("--entry", "ab1", "--set-reason", "x", input="")[0] == 0


def test_a_baseline_written_before_decided_existed_still_loads(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads((adopted / BASELINE).read_text())
    doc["entries"][0].update(decision="leak", reason="old")  # 0.1: no "decided"
    (adopted / BASELINE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    code, out = report(capsys)
    assert code == 1 and "real leak, to rotate  [present]; reason: old  (entry" in out
    assert main(["baseline", "update"]) == 0
    assert "decided" not in entries(adopted)["a.py"]  # nothing invented on a rewrite
