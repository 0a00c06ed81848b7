"""A custom rule that runs out of time on one candidate makes that input incomplete, nothing more.

The load-time check (configfile._check_body) refuses the catastrophic patterns it can find;
one that slips past it and then times out on some file is a Problem for that file and rule
(exit 2, or 1 when tokens were found), and every other finding, in that file and in the
others, is still reported, in every mode: files, worker processes, the index, history and
commit messages. The tests turn the load-time probes off and the time budget down, so a
classic exponential pattern reaches the engine and times out quickly.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from copera_secretscan import parallel
from copera_secretscan import pipeline as scanner
from copera_secretscan.cli.main import main
from copera_secretscan.config import file as configfile
from copera_secretscan.config.settings import Settings
from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.rules import BUILTIN_RULES, Rule, Ruleset
from copera_secretscan.errors import PatternTimeout
from copera_secretscan.models import Origin
from tests.conftest import commit_all, git
from tests.tokens import make_token

BUDGET = 0.05  # seconds per candidate, in these tests
SLOW = "(ab|a|b)+$"  # exponential on `abab…!`
BAD_RULE = Rule("bad", "bad_", "bad", "whoever", "revoke it", SLOW)
RULESET = Ruleset(rules=(*BUILTIN_RULES, BAD_RULE), timeout=BUDGET)
CANDIDATE = "bad_" + "ab" * 2000 + "!"  # under MAX_BODY, so `$` cannot match at a cut
CONFIG = f'[[rules]]\nid = "bad"\nprefix = "bad_"\nbody = "{SLOW}"\n'
ONE, TWO = make_token("cp_pat_", 32, seed=61), make_token("cp_key_", 32, seed=62)


def scan(data: bytes, ruleset: Ruleset = RULESET) -> Tuple[List[str], List[engine.Undecided]]:
    undecided: List[engine.Undecided] = []
    found = engine.scan_bytes(data, Origin("f"), ruleset, undecided)
    return [finding.secret for finding in found], undecided


# --- the engine ------------------------------------------------------------------------------


def test_a_timed_out_candidate_is_undecided_and_the_scan_goes_on() -> None:
    data = f"a = {ONE}\n  {CANDIDATE}\nb = {TWO}\n".encode()
    found, undecided = scan(data)
    assert found == [ONE, TWO]
    assert [(u.rule_id, u.line, u.column) for u in undecided] == [("bad", 2, 3)]
    assert "custom rule 'bad': body pattern '(ab|a|b)+$' took longer than" in str(undecided[0])
    assert "\n" not in str(undecided[0])


def test_without_an_undecided_list_the_timeout_is_raised_as_before() -> None:
    with pytest.raises(PatternTimeout):
        engine.scan_bytes(f"{CANDIDATE}\n".encode(), Origin("f"), RULESET)


def test_a_rule_that_timed_out_is_not_tried_again_in_that_input() -> None:
    """Each try could cost the whole budget: one input costs at most one timeout per rule."""
    data = f"{CANDIDATE}\n".encode() * 40 + f"x {ONE}\n".encode()
    started = time.monotonic()
    found, undecided = scan(data)
    assert time.monotonic() - started < 20 * BUDGET  # not 40 timeouts
    assert found == [ONE]
    assert [u.line for u in undecided] == [1]


def test_a_timed_out_rule_keeps_what_it_matched_before() -> None:
    either = Rule("either", "bad_", "either", "whoever", "revoke it", SLOW + "|[A-Za-z0-9]{24}")
    ruleset = Ruleset(rules=(*BUILTIN_RULES, either), timeout=BUDGET)
    good = "bad_" + ONE[-24:]  # `(ab|a|b)+$` fails at once on it, the second branch matches
    found, undecided = scan(f"{good}\n{CANDIDATE}\n".encode(), ruleset)
    assert (found, [u.line for u in undecided]) == ([good], [2])


def test_another_rule_still_judges_a_candidate_the_timed_out_rule_gave_up_on() -> None:
    """`cp_pat_L…` is a candidate of the custom rule (longest prefix first) and of copera-pat."""
    custom = Rule("live", "cp_pat_L", "live", "whoever", "revoke it", r"(\w|\w\w)+$")
    ruleset = Ruleset(rules=(*BUILTIN_RULES, custom), timeout=BUDGET)
    token = "cp_pat_L" + make_token("cp_pat_", 64, seed=64)[len("cp_pat_") :]
    found, undecided = scan(f"k = {token}!\n".encode(), ruleset)
    assert found == [token]
    assert [u.rule_id for u in undecided] == ["live"]


@pytest.mark.parametrize("chunk_size", [1, 64, 5000])
def test_a_stream_reports_the_same_undecided_candidate_however_it_is_chunked(
    chunk_size: int,
) -> None:
    import io

    data = f"a = {ONE}\n{CANDIDATE}\n".encode()
    undecided: List[engine.Undecided] = []
    read = io.BytesIO(data).read
    found = list(engine.scan_stream(read, Origin("f"), RULESET, chunk_size, undecided))
    assert [f.secret for f in found] == [ONE]
    assert [(u.rule_id, u.line, u.column) for u in undecided] == [("bad", 2, 1)]


# --- every mode of the command line -----------------------------------------------------------


@pytest.fixture
def slipped(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose config has a pattern the load-time check misses, a short budget,
    a file where it times out before and after real tokens, and a clean neighbour."""
    monkeypatch.setattr(configfile, "_probes", lambda pattern: [])
    ruleset = Settings.ruleset
    monkeypatch.setattr(Settings, "ruleset", lambda self: ruleset(self)._replace(timeout=BUDGET))
    (repo / ".copera-secretscan.toml").write_text(CONFIG)
    (repo / "slow.txt").write_text(f"a = {ONE}\n{CANDIDATE}\nb = {TWO}\n")
    (repo / "other.txt").write_text(f"c = {make_token('cp_oat_', 40, seed=63)}\n")
    return repo


def report(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, Dict[str, Any]]:
    code = main(["scan", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def assert_every_token_and_one_problem(code: int, doc: Dict[str, Any], path: str) -> None:
    assert code == 1
    assert sorted(f["path"] for f in doc["findings"]) == ["other.txt", path, path]
    assert len(doc["errors"]) == 1, doc["errors"]
    [error] = doc["errors"]
    assert error["path"] == path
    assert "custom rule 'bad'" in error["message"] and "line 2, column 1" in error["message"]


def test_scan_reports_the_timeout_for_that_file_and_keeps_every_finding(
    slipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert_every_token_and_one_problem(*report(capsys, "."), "slow.txt")


def test_the_timeout_alone_makes_the_scan_incomplete_with_one_line(
    slipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (slipped / "only.txt").write_text(CANDIDATE + "\n")
    code = main(["scan", "only.txt"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("copera-secretscan: error: only.txt: custom rule 'bad': body pattern")
    assert "Scan incomplete" in out


@pytest.mark.parametrize("fork", [True, False], ids=["fork", "spawn"])
def test_worker_processes_report_the_timeout_and_keep_every_finding(
    slipped: Path, monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    monkeypatch.setattr(parallel, "FORK", fork)
    monkeypatch.setattr(parallel, "START_FILES", 2)
    monkeypatch.setattr(parallel, "BATCH", 1)
    for i in range(6):
        (slipped / f"more{i}.txt").write_text(f"x = {make_token('cp_pat_', 30, seed=70 + i)}\n")
    settings = Settings()._replace(rules=(BAD_RULE,))
    alone = scanner.scan_paths(["."], settings, jobs=1)
    monkeypatch.setattr(parallel, "_here", None)  # from here on, only workers may scan a file
    pooled = scanner.scan_paths(["."], settings, jobs=2)
    assert pooled.findings == alone.findings and len(alone.findings) == 9
    assert [p.path for p in pooled.problems] == [p.path for p in alone.problems] == ["slow.txt"]


def test_staged_reports_the_timeout_and_keeps_every_finding(
    slipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(slipped, "add", "slow.txt", "other.txt")
    assert_every_token_and_one_problem(*report(capsys, "--staged"), "slow.txt")


def test_history_reports_the_timeout_and_keeps_every_finding(
    slipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit_all(slipped, "add files")
    assert_every_token_and_one_problem(*report(capsys, "--history"), "slow.txt")


def test_a_commit_message_reports_the_timeout_and_keeps_its_token(
    slipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = slipped / "MSG"
    message.write_text(f"subject\n\n{CANDIDATE}\nkey {ONE}\n")
    code = main(["scan", "--commit-msg", str(message)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "custom rule 'bad'" in err and "cp_pat_" in out
