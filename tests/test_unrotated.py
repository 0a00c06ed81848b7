"""Issue 12: an entry marked "real leak, to rotate" still suppresses its finding, never silently.

Every scan that meets such a token says so on stderr (kind, where, redacted token, since when)
and still exits 0; ``--fail-on-unrotated`` or ``fail_on_unrotated = true`` make it exit 1. The
hook cases run the real pre-commit with the baseline set once in the config file, so every hook
id (the push hook included) applies it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from copera_secretscan.cli.main import main
from tests.conftest import commit_all, git, git_hooked, install_hooks
from tests.tokens import make_token

BASELINE = ".copera-secretscan-baseline.json"
CONFIG = ".copera-secretscan.toml"
LEAK = make_token("cp_pat_", 32, seed=1201)
SHOWN = LEAK[:11] + "…"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def baseline_doc(repo: Path) -> Dict[str, Any]:
    return json.loads((repo / BASELINE).read_text())


@pytest.fixture
def marked(repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A repository whose one token is in the baseline, marked a real leak with a reason."""
    (repo / "app").mkdir()
    (repo / "app" / "settings.py").write_text(f"DEBUG = True\nKEY = '{LEAK}'\n")
    assert main(["baseline", "create"]) == 0
    digest = baseline_doc(repo)["entries"][0]["hash"]
    args = ["--entry", digest[:10], "--set-decision", "leak", "--set-reason", "INC-7"]
    assert main(["baseline", "audit", *args]) == 0
    capsys.readouterr()
    return repo


def reminder(decided: str) -> str:
    return (
        f"copera-secretscan: warning: unrotated leak: Copera Personal Access Token {SHOWN} in "
        f"app/settings.py:2, marked a real leak to rotate {decided} (INC-7): the baseline still "
        "hides it; rotate it, remove it, then run 'copera-secretscan baseline update'\n"
    )


def today_reminder(repo: Path) -> str:
    return reminder(f"on {baseline_doc(repo)['entries'][0]['decided']}")


def test_audit_records_the_day_of_the_decision(marked: Path) -> None:
    entry = baseline_doc(marked)["entries"][0]
    assert entry["decision"] == "leak" and len(entry["decided"]) == 10  # YYYY-MM-DD


def test_a_scan_that_meets_the_leak_reminds_and_still_passes(
    marked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "scan", "--baseline", BASELINE)
    assert code == 0
    assert err == today_reminder(marked)
    assert out == (
        "No new Copera tokens found (2 files scanned, 1 allowed); the baseline still hides "
        "1 real leak to rotate (see the warning).\n"
    )  # never "No Copera tokens found" while a real leak is only hidden
    assert LEAK not in out + err


@pytest.mark.parametrize("how", ["flag", "config"])
def test_fail_on_unrotated_makes_the_reminder_exit_1(
    marked: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    args = ["scan", "--baseline", BASELINE]
    if how == "flag":
        args.append("--fail-on-unrotated")
    else:
        (marked / CONFIG).write_text("fail_on_unrotated = true\n")
    code, _, err = run(capsys, *args)
    assert (code, err) == (1, today_reminder(marked))


def test_fail_on_unrotated_passes_once_the_token_is_gone(
    marked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (marked / "app" / "settings.py").write_text("KEY = os.environ['COPERA_KEY']\n")
    code, _, err = run(capsys, "scan", "--baseline", BASELINE, "--fail-on-unrotated")
    assert code == 0
    assert "unrotated" not in err and "stale baseline entry" in err


def test_false_positives_and_undecided_entries_stay_silent(
    marked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = baseline_doc(marked)["entries"][0]["hash"]
    assert main(["baseline", "audit", "--entry", digest, "--set-decision", "false-positive"]) == 0
    capsys.readouterr()
    code, _, err = run(capsys, "scan", "--baseline", BASELINE, "--fail-on-unrotated")
    assert (code, err) == (0, "")


def test_an_entry_audited_before_dates_were_kept_says_so(
    marked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = baseline_doc(marked)
    del doc["entries"][0]["decided"]  # as 0.1 wrote it
    (marked / BASELINE).write_text(json.dumps(doc))
    code, _, err = run(capsys, "scan", "--baseline", BASELINE)
    assert (code, err) == (0, reminder("on a day not recorded (an older entry)"))


def test_json_report_lists_the_unrotated_leak(
    marked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "scan", "--baseline", BASELINE, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["findings"] == []
    assert report["unrotated"] == [
        {
            "rule_id": "copera-pat",
            "where": "app/settings.py:2",
            "redacted": SHOWN,
            "decided": baseline_doc(marked)["entries"][0]["decided"],
            "reason": "INC-7",
        }
    ]


def test_staged_and_history_scans_remind_too(
    marked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (marked / CONFIG).write_text(f'baseline = "{BASELINE}"\n')
    git(marked, "add", "-A")
    code, _, err = run(capsys, "scan", "--staged")
    assert (code, err) == (0, today_reminder(marked))
    commit_all(marked, "accepted, being rotated")
    code, _, err = run(capsys, "scan", "--history", "--quiet")
    assert code == 0
    assert "unrotated leak: Copera Personal Access Token" in err and "app/settings.py" in err


@pytest.mark.parametrize("value", ["1", '"yes"'])
def test_a_config_key_that_is_not_a_boolean_is_one_line_exit_2(
    marked: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    (marked / CONFIG).write_text(f"fail_on_unrotated = {value}\n")
    code, out, err = run(capsys, "scan")
    assert code == 2 and out == ""
    assert err.startswith(f"copera-secretscan: error: {CONFIG}: fail_on_unrotated: expected true")
    assert len(err.splitlines()) == 1


# --- the real pre-commit, the baseline set once in the config file --------------------------

HOOKS = """\
default_install_hook_types: [pre-commit, pre-push]
repos:
  - repo: {path}
    rev: {sha}
    hooks:
      - id: copera-secretscan
        verbose: true
      - id: copera-secretscan-push
        verbose: true
"""


@pytest.fixture
def hooked(marked: Path, tmp_path: Path, hook_repo: Tuple[str, str], pre_commit_home: Path) -> Path:
    """``marked`` with the baseline in the config (no hook ``args``), the hooks installed and a
    remote holding the first commit."""
    (marked / CONFIG).write_text(f'baseline = "{BASELINE}"\n')
    commit_all(marked, "adopt the baseline")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(marked, "remote", "add", "origin", str(remote))
    git(marked, "push", "-q", "--no-verify", "origin", "HEAD:refs/heads/main")
    path, sha = hook_repo
    install_hooks(marked, pre_commit_home, HOOKS.format(path=path, sha=sha))
    git(marked, "push", "-q", "--no-verify", "origin", "HEAD:refs/heads/main")
    return marked


def touch_the_leak(repo: Path) -> None:
    """A commit that changes the file holding the accepted token: the hook scans it."""
    with (repo / "app" / "settings.py").open("a") as handle:
        handle.write("TIMEOUT = 30\n")
    git(repo, "add", "app/settings.py")


def test_every_hook_id_applies_the_config_baseline_and_reminds(
    hooked: Path, pre_commit_home: Path
) -> None:
    touch_the_leak(hooked)
    commit = git_hooked(hooked, pre_commit_home, "commit", "-m", "timeout")
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert "unrotated leak: Copera Personal Access Token" in commit.stdout + commit.stderr
    (hooked / "app" / "settings.py").write_text(f"KEY = '{LEAK}'\n")  # the leak line moves
    commit_all(hooked, "move it")  # the push sends it again, in a new blob
    push = git_hooked(hooked, pre_commit_home, "push", "origin", "HEAD:refs/heads/main")
    output = push.stdout + push.stderr
    assert push.returncode == 0, output
    assert "Copera tokens in pushed commits" in output
    assert "unrotated leak: Copera Personal Access Token" in output
    assert LEAK not in output


def test_fail_on_unrotated_in_the_config_blocks_commit_and_push(
    hooked: Path, pre_commit_home: Path
) -> None:
    (hooked / CONFIG).write_text(f'baseline = "{BASELINE}"\nfail_on_unrotated = true\n')
    commit_all(hooked, "be strict")
    touch_the_leak(hooked)
    commit = git_hooked(hooked, pre_commit_home, "commit", "-m", "timeout")
    assert commit.returncode == 1
    assert "unrotated leak" in commit.stdout + commit.stderr
    commit_all(hooked, "timeout, hook skipped")  # --no-verify: the push hook still stands
    push = git_hooked(hooked, pre_commit_home, "push", "origin", "HEAD:refs/heads/main")
    assert push.returncode != 0
    assert "unrotated leak" in push.stdout + push.stderr
    remote_main = git(hooked, "ls-remote", "origin", "refs/heads/main").split()[0]
    assert remote_main != git(hooked, "rev-parse", "HEAD").strip()
