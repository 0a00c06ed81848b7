"""The baseline: what it stores, what it accepts, and how it ages (update, expiry, staleness)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from copera_secretscan.cli.main import main
from tests.tokens import make_token

BASELINE = ".copera-secretscan-baseline.json"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, List[str], str]:
    """Exit code, ``path:line`` of each finding, stderr — of a scan against the baseline."""
    code, out, err = run(capsys, "scan", "--baseline", BASELINE, "--format", "json", *args)
    return code, [f"{f['path']}:{f['line']}" for f in json.loads(out)["findings"]], err


def read(path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture
def tokens() -> List[str]:
    return [
        make_token(prefix, 32, seed=100 + i)
        for i, prefix in enumerate(["cp_pat_", "cp_key_", "cp_oat_", "cp_pat_"])
    ]


@pytest.fixture
def adopted(repo: Path, tokens: List[str], capsys: pytest.CaptureFixture[str]) -> Path:
    """A repository with four known tokens in three files, and a baseline of them."""
    (repo / "src").mkdir()
    (repo / "src" / "settings.py").write_text(f"A = '{tokens[0]}'\nB = '{tokens[1]}'\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "fixture.json").write_text(json.dumps({"token": tokens[2]}) + "\n")
    (repo / "docs.md").write_text(f"Example: `{tokens[3]}`\n")
    code, out, err = run(capsys, "baseline", "create")
    assert (code, out, err) == (0, f"Wrote {BASELINE}: 4 entries.\n", "")
    return repo


def test_the_file_holds_no_secret_and_no_line_number(adopted: Path, tokens: List[str]) -> None:
    text = (adopted / BASELINE).read_text()
    assert not any(token in text for token in tokens)
    assert not any(token[len("cp_pat_") :] in text for token in tokens)
    doc = read(adopted / BASELINE)
    assert sorted(doc) == ["entries", "salt", "version"]
    assert doc["version"] == 1
    entry = doc["entries"][0]
    assert sorted(entry) == ["hash", "path", "redacted", "rule_id"]
    assert [e["path"] for e in doc["entries"]] == [
        "docs.md",
        "src/settings.py",
        "src/settings.py",
        "tests/fixture.json",
    ]
    assert entry["redacted"] == tokens[3][:11] + "…"


def test_the_file_is_sorted_indented_and_newline_terminated(adopted: Path) -> None:
    text = (adopted / BASELINE).read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_rerunning_create_and_update_changes_no_byte(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = (adopted / BASELINE).read_bytes()
    assert run(capsys, "baseline", "create")[0] == 0
    assert (adopted / BASELINE).read_bytes() == first
    assert run(capsys, "baseline", "update")[0] == 0
    assert (adopted / BASELINE).read_bytes() == first


def test_same_tree_in_another_clone_gives_the_same_entries_order(
    adopted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the salt differs between two fresh baselines: no timestamps, no run-dependent order."""
    clone = tmp_path / "clone"
    shutil.copytree(adopted, clone)
    (clone / BASELINE).unlink()
    monkeypatch.chdir(clone)
    assert main(["baseline", "create"]) == 0
    mine, theirs = read(adopted / BASELINE), read(clone / BASELINE)
    assert mine["salt"] != theirs["salt"]
    strip = [{k: v for k, v in e.items() if k != "hash"} for e in mine["entries"]]
    assert strip == [{k: v for k, v in e.items() if k != "hash"} for e in theirs["entries"]]


def test_baselined_tokens_pass(adopted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "scan", "--baseline", BASELINE)
    assert (code, err) == (0, "")
    assert "4 allowed" in out


def test_entry_survives_line_moves_and_edits_elsewhere(
    adopted: Path, tokens: List[str], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = adopted / "src" / "settings.py"
    settings.write_text(f"import os\n\n\n# moved\nB = '{tokens[1]}'\nX = 1\nA = '{tokens[0]}'\n")
    assert scan(capsys) == (0, [], "")


def test_same_token_in_a_new_file_is_new(
    adopted: Path, tokens: List[str], capsys: pytest.CaptureFixture[str]
) -> None:
    (adopted / "src" / "copy.py").write_text(f"\nA = '{tokens[0]}'\n")
    assert scan(capsys) == (1, ["src/copy.py:2"], "")


def test_a_different_token_on_a_baselined_line_is_new(
    adopted: Path, tokens: List[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """gitleaks#2239: a positional ignore once hid a new secret put on the same line."""
    other = make_token("cp_pat_", 32, seed=999)
    (adopted / "src" / "settings.py").write_text(f"A = '{other}'\nB = '{tokens[1]}'\n")
    code, found, err = scan(capsys)
    assert (code, found) == (1, ["src/settings.py:1"])
    assert "stale baseline entry" in err  # the old token is gone from that file


def test_paths_are_keyed_from_the_repository_root(
    adopted: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(adopted / "src")
    code, out, err = run(capsys, "scan", "--baseline", f"../{BASELINE}", ".")
    assert (code, err) == (0, "")
    assert "2 allowed" in out


def test_baseline_from_the_config_file(adopted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (adopted / "ci").mkdir()
    (adopted / BASELINE).rename(adopted / "ci" / "accepted.json")
    (adopted / ".copera-secretscan.toml").write_text('baseline = "ci/accepted.json"\n')
    code, out, err = run(capsys, "scan")
    assert (code, err) == (0, "")
    assert "4 allowed" in out
    assert run(capsys, "scan", "--baseline", "nope.json")[0] == 2  # the flag wins


def test_json_report_counts_baseline_suppressions(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "scan", "--baseline", BASELINE, "--format", "json")
    assert code == 0
    assert json.loads(out)["stats"]["suppressed"] == 4


# --- update -----------------------------------------------------------------------------


def _decide(path: Path, which: str, **values: str) -> None:
    doc = read(path)
    for entry in doc["entries"]:
        if entry["path"] == which:
            entry.update(values)
    path.write_text(json.dumps(doc, indent=2))


def test_update_adds_new_drops_gone_and_keeps_decisions(
    adopted: Path, tokens: List[str], capsys: pytest.CaptureFixture[str]
) -> None:
    _decide(
        adopted / BASELINE,
        "tests/fixture.json",
        decision="false-positive",
        reason="test fixture",
        expires="2999-01-01",
    )
    _decide(adopted / BASELINE, "docs.md", decision="leak", reason="rotating")
    salt = read(adopted / BASELINE)["salt"]
    (adopted / "docs.md").write_text("Example: (removed)\n")
    new = make_token("cp_key_", 40, seed=55)
    (adopted / "new.py").write_text(f"K = '{new}'\n")

    code, out, _ = run(capsys, "baseline", "update")

    assert (code, out) == (0, f"Wrote {BASELINE}: 4 entries.\n")
    doc = read(adopted / BASELINE)
    assert doc["salt"] == salt
    by_path = {e["path"]: e for e in doc["entries"]}
    assert sorted(by_path) == ["new.py", "src/settings.py", "tests/fixture.json"]
    assert by_path["tests/fixture.json"]["decision"] == "false-positive"
    assert by_path["tests/fixture.json"]["reason"] == "test fixture"
    assert by_path["tests/fixture.json"]["expires"] == "2999-01-01"
    assert "decision" not in by_path["new.py"]


def test_update_of_some_paths_keeps_entries_elsewhere(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (adopted / "src" / "settings.py").write_text("A = 1\n")
    assert run(capsys, "baseline", "update", "tests")[0] == 0
    paths = [e["path"] for e in read(adopted / BASELINE)["entries"]]
    assert paths == ["docs.md", "src/settings.py", "src/settings.py", "tests/fixture.json"]
    assert run(capsys, "baseline", "update", "src")[0] == 0
    assert [e["path"] for e in read(adopted / BASELINE)["entries"]] == [
        "docs.md",
        "tests/fixture.json",
    ]


def test_create_keeps_decisions_of_tokens_still_found(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _decide(adopted / BASELINE, "docs.md", decision="false-positive", reason="docs")
    before = (adopted / BASELINE).read_bytes()
    assert run(capsys, "baseline", "create")[0] == 0
    assert json.loads((adopted / BASELINE).read_bytes()) == json.loads(before)


def test_create_and_update_refuse_a_corrupt_file_and_create_force_replaces_it(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (adopted / BASELINE).write_text("{not json")
    code, _, err = run(capsys, "baseline", "update")
    assert code == 2 and "corrupt baseline" in err
    code, out, err = run(capsys, "baseline", "create")
    assert (code, out) == (2, "")
    assert err.startswith(f"copera-secretscan: error: {BASELINE}: corrupt baseline: invalid JSON")
    assert err.endswith("; not replaced (fix it, or use --force to start over)\n")
    assert err.count("\n") == 1
    assert (adopted / BASELINE).read_text() == "{not json"
    assert run(capsys, "baseline", "create", "--force")[0] == 0
    assert len(read(adopted / BASELINE)["entries"]) == 4


def test_create_keeps_a_conflicted_baseline_for_the_user_to_resolve(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A merge conflict in the baseline holds both sides' decisions: never silently drop them."""
    _decide(adopted / BASELINE, "docs.md", decision="false-positive", reason="docs")
    lines = (adopted / BASELINE).read_text().splitlines(keepends=True)
    conflicted = "".join(["<<<<<<< HEAD\n", *lines, "=======\n", *lines, ">>>>>>> other\n"])
    (adopted / BASELINE).write_text(conflicted)
    code, _, err = run(capsys, "baseline", "create")
    assert code == 2 and f"{BASELINE}: corrupt baseline" in err
    assert (adopted / BASELINE).read_text() == conflicted
    assert "--force" in run(capsys, "baseline", "create", "--help")[1]
    assert "--force" not in run(capsys, "baseline", "update", "--help")[1]


def test_incomplete_scan_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "baseline", "create", "missing.txt")
    assert code == 2
    assert "missing.txt: no such file or directory" in err
    assert f"scan incomplete; {BASELINE} not written" in err
    assert not (repo / BASELINE).exists()


def test_update_needs_an_existing_baseline(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "baseline", "update")
    assert code == 2
    assert "no such baseline (create it with 'copera-secretscan baseline create')" in err


def test_baseline_option_names_the_file(adopted: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "baseline", "create", "-b", "other.json", "src")
    assert (code, out) == (0, "Wrote other.json: 2 entries.\n")
    assert run(capsys, "scan", "-b", "other.json", "src")[0] == 0  # -b is --baseline everywhere


def test_o_is_output_everywhere_or_not_at_all(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o`` was ``--baseline`` in the baseline commands and ``--output`` in ``scan``."""
    code, _, err = run(capsys, "baseline", "create", "-o", "other.json", "src")
    assert code == 2 and "No such option" in err and "-o" in err  # click's wording varies
    assert not (adopted / "other.json").exists()


# --- expiry and staleness -------------------------------------------------------------------


def test_expired_entry_is_reported_again_with_the_reason(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _decide(adopted / BASELINE, "docs.md", expires="2000-01-31", reason="rotating, ticket 42")
    code, found, err = scan(capsys)
    assert (code, found) == (1, ["docs.md:1"])
    assert err.startswith("copera-secretscan: warning: baseline entry for cp_pat_")
    assert "in docs.md expired on 2000-01-31 (rotating, ticket 42): reported again" in err


def test_entry_expiring_in_the_future_still_applies(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _decide(adopted / BASELINE, "docs.md", expires="2999-12-31")
    assert scan(capsys) == (0, [], "")


def test_stale_entry_is_a_warning_not_a_failure(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (adopted / "docs.md").unlink()
    code, found, err = scan(capsys)
    assert (code, found) == (0, [])
    assert err.endswith(
        "in docs.md is no longer found; 'copera-secretscan baseline update' drops it\n"
    )
    assert err.startswith("copera-secretscan: warning: stale baseline entry: cp_pat_")


def test_staleness_is_judged_only_for_what_was_scanned(
    adopted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hook run on one file must not call the entries of every other file stale."""
    (adopted / "docs.md").write_text("nothing\n")
    assert scan(capsys, "src/settings.py") == (0, [], "")
    code, _, err = scan(capsys, "docs.md")
    assert code == 0 and "stale baseline entry" in err


# --- a baseline that cannot be trusted -----------------------------------------------------

GOOD_HASH = "a" * 64
ENTRY = {"hash": GOOD_HASH, "path": "a", "rule_id": "r", "redacted": "x"}


def doc(**changes: Any) -> str:
    top: Dict[str, Any] = {"version": 1, "salt": GOOD_HASH, "entries": []}
    top.update(changes)
    return json.dumps({key: value for key, value in top.items() if value is not None})


def entry(**changes: Any) -> str:
    one = {key: value for key, value in {**ENTRY, **changes}.items() if value is not None}
    return doc(entries=[one])


CORRUPT = [
    ("{", "invalid JSON at line 1: Expecting property name enclosed in double quotes"),
    ("[]", "expected a JSON object at the top"),
    (doc(entries=None), "expected exactly the keys version, salt, entries"),
    (doc(extra=1), "expected exactly the keys version, salt, entries"),
    (doc(version=2), "unsupported version 2 (this copera-secretscan reads 1)"),
    (doc(version="1"), "unsupported version '1' (this copera-secretscan reads 1)"),
    (doc(salt="xyz"), "'salt' must be 64 lowercase hex digits"),
    (doc(entries={}), "'entries' must be an array"),
    (doc(entries=[3]), "entries[0]: expected an object"),
    (entry(redacted=None), "entries[0].redacted: expected a string"),
    (entry(path=3), "entries[0].path: expected a string"),
    (entry(reason=["a"]), "entries[0].reason: expected a string"),
    (entry(hash="nothex"), "entries[0].hash: expected 64 lowercase hex digits"),
    (
        entry(expires="31/12/2026"),
        "entries[0].expires: expected a date as YYYY-MM-DD, got '31/12/2026'",
    ),
    (
        entry(expires="2026-02-30"),
        "entries[0].expires: expected a date as YYYY-MM-DD, got '2026-02-30'",
    ),
    (entry(decision="maybe"), "entries[0].decision: expected one of leak, false-positive"),
    (entry(reson="typo"), "entries[0]: unknown key 'reson'"),
    (doc(entries=[ENTRY, ENTRY]), "the same 'hash' appears in two entries"),
]


@pytest.mark.parametrize(("text", "what"), CORRUPT)
def test_corrupt_baseline_is_an_error_naming_what_is_wrong(
    repo: Path, capsys: pytest.CaptureFixture[str], text: str, what: str
) -> None:
    (repo / BASELINE).write_text(text)
    (repo / "a.txt").write_text("clean\n")
    code, out, err = run(capsys, "scan", "--baseline", BASELINE)
    assert (code, out) == (2, "")
    assert err == f"copera-secretscan: error: {BASELINE}: corrupt baseline: {what}\n"


def test_missing_baseline_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", "--baseline", "nope.json")
    assert code == 2
    assert err == (
        "copera-secretscan: error: nope.json: no such baseline "
        "(create it with 'copera-secretscan baseline create')\n"
    )


def test_binary_baseline_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / BASELINE).write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run(capsys, "scan", "--baseline", BASELINE)
    assert (code, err) == (
        2,
        f"copera-secretscan: error: {BASELINE}: corrupt baseline: not UTF-8 text\n",
    )
