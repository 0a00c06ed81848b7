"""A token in a file or directory name is a leak (git stores names), and no output prints it.

Also: nothing from a scanned file or name reaches a terminal as a control sequence.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copera_secretscan.cli.main import main
from copera_secretscan.engine.names import name_findings
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.models import printable
from copera_secretscan.report import FORMATS
from tests.conftest import git
from tests.report_samples import validate_gitlab, validate_junit, validate_sarif
from tests.tokens import make_token

OUR_SGR = re.compile(r"\x1b\[(?:0|1|2|31|32|33)m")  # the colours the text report uses


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def named_tree(repo: Path) -> str:
    """A repository whose only token is in a directory name (two files) and a file name."""
    token = make_token("cp_pat_", 32, seed=41)
    (repo / "conf" / token).mkdir(parents=True)
    (repo / "conf" / token / "a.txt").write_text("nothing here\n")
    (repo / "conf" / token / "b.txt").write_text("nor here\n")
    (repo / f"{token}.json").write_text("{}\n")
    return token


def test_a_token_in_a_file_or_directory_name_is_reported_once_per_name(
    named_tree: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "scan", "--format", "json", "--show-secrets")
    findings = json.loads(out)["findings"]
    assert code == 1
    places = sorted((f["path"], f["line"], f["location"]) for f in findings)
    assert places == [
        (f"conf/{named_tree}", 0, "path"),
        (f"{named_tree}.json", 0, "path"),
    ]
    assert {f["column"] for f in findings} == {1, 6}
    assert all(f["secret"] == named_tree for f in findings)


def test_a_token_in_a_name_is_found_by_the_hook_and_by_staged_scans(
    named_tree: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from copera_secretscan import quick

    git(repo, "add", "-A")
    staged_files = git(repo, "diff", "--cached", "--name-only").split()
    assert quick.hook_main(staged_files) == 1  # pre-commit passes the names; the contents are clean
    capsys.readouterr()
    assert quick.main(["scan", "--staged", "-f", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert {f["location"] for f in report["findings"]} == {"path"}


def test_a_token_in_the_directories_above_the_working_directory_is_reported(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_oat_", 24, seed=42)
    (repo / token / "sub").mkdir(parents=True)
    (repo / token / "sub" / "x.txt").write_text("clean\n")
    monkeypatch.chdir(repo / token / "sub")
    code, out, _ = run(capsys, "scan", "-f", "json")
    [finding] = json.loads(out)["findings"]
    assert code == 1
    assert finding["location"] == "path"
    assert finding["rule_id"] == "copera-oat"


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_prints_a_token_from_a_path(
    fmt: str, named_tree: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "conf" / named_tree / "leak.py").write_text(
        f"K = '{make_token('cp_key_', 30, seed=43)}'\n"
    )
    code, out, err = run(capsys, "scan", "--format", fmt, "--report", f"{fmt}:report.out")
    written = (repo / "report.out").read_text(encoding="utf-8")
    assert code == 1
    for text in (out, err, written):
        assert named_tree not in text
    assert named_tree[:11] in out
    if fmt == "sarif":
        validate_sarif(json.loads(out))
    elif fmt == "gitlab":
        validate_gitlab(json.loads(out))
    elif fmt == "junit":
        validate_junit(out)


def test_show_secrets_reveals_the_name(named_tree: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "scan", "--show-secrets")
    assert f"conf/{named_tree}: Copera Personal Access Token" in out
    assert "in a file or directory name" in out


def test_an_error_about_a_token_named_file_does_not_print_the_token(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_pat_", 28, seed=44)
    code, out, err = run(capsys, "scan", f"missing-{token}.txt")
    assert code == 1  # the name itself is a finding; the missing file an error
    assert token not in out + err
    assert f"missing-{token[:11]}" in err


def test_a_baseline_records_a_token_named_path_redacted(
    named_tree: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["baseline", "create"]) == 0
    text = (repo / ".copera-secretscan-baseline.json").read_text(encoding="utf-8")
    assert named_tree not in text
    assert main(["scan", "--baseline", ".copera-secretscan-baseline.json"]) == 0
    capsys.readouterr()


def test_a_name_finding_in_history_has_its_commit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import commit_all

    token = make_token("cp_pat_", 32, seed=45)
    (repo / "a.txt").write_text("one\n")
    commit_all(repo, "first")
    (repo / "a.txt").rename(repo / f"{token}.txt")
    second = commit_all(repo, "renamed")
    code, out, _ = run(capsys, "scan", "--history", "-f", "json")
    [finding] = json.loads(out)["findings"]
    assert code == 1
    assert (finding["location"], finding["commit"]) == ("path", second)
    assert token not in out


@given(
    before=st.text(alphabet="abc/._- ", max_size=8),
    after=st.sampled_from(["", ".txt", "/y", "/a/b.c", ".d/z", " copy"]),
    seed=st.integers(0, 50),
)
@settings(max_examples=60, deadline=None)
def test_name_findings_point_at_the_name_that_holds_the_token(
    before: str, after: str, seed: int
) -> None:
    token = make_token("cp_key_", 24, seed=seed)
    path = f"x/{before}/{token}{after}"
    [finding] = name_findings(path, Ruleset())
    holder = path[: path.find("/", path.index(token)) % (len(path) + 1) or len(path)]
    assert finding.path == holder
    assert finding.secret == token and finding.line == 0
    assert holder[finding.column - 1 : finding.end_column - 1] == token


def test_a_token_run_into_a_word_in_a_name_is_not_a_token() -> None:
    body = make_token("cp_pat_", 24, seed=46)[len("cp_pat_") :]
    assert name_findings(f"src/mcp_pat_{body}.py", Ruleset()) == []


# --- control characters -------------------------------------------------------------------

HOSTILE = [
    "\x1b]0;pwned\x07",  # OSC: set the window title
    "\x1b]52;c;ZWNobyBoaQ==\x07",  # OSC 52: write the clipboard
    "\x1b[2J\x1b[H",  # CSI: clear the screen
    "\x9b31m",  # C1 CSI
    "\u202e",  # right-to-left override
    "\u2066\u2069",  # bidi isolates
    "\r",  # carriage return: overwrite what was printed
    "\x08\x08",  # backspaces
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_printable_escapes_every_control_character(hostile: str) -> None:
    shown = printable(f"a{hostile}b.txt")
    assert shown.isprintable()
    assert shown.startswith("a\\") and shown.endswith("b.txt")


@pytest.mark.parametrize("hostile", HOSTILE)
def test_control_sequences_in_content_and_names_never_reach_the_terminal(
    hostile: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("cp_pat_", 32, seed=47)
    (repo / f"evil{hostile}.py").write_text(
        f"{hostile} K = '{token}' {hostile}\n", encoding="utf-8"
    )
    for fmt in ("text", "github"):
        code, out, err = run(capsys, "scan", "--color", "--format", fmt)
        assert code == 1
        for text in (out, err):
            visible = OUR_SGR.sub("", text)
            assert all(char.isprintable() or char == "\n" for char in visible), repr(visible)


def test_a_directory_named_after_a_token_in_history_is_one_finding_even_once_removed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import commit_all

    token = make_token("cp_oat_", 30, seed=48)
    (repo / "keep.txt").write_text("x\n")
    base = commit_all(repo, "base")
    (repo / "cfg" / token).mkdir(parents=True)
    (repo / "cfg" / token / "a.txt").write_text("a\n")
    (repo / "cfg" / token / "b.txt").write_text("b\n")
    added = commit_all(repo, "add")
    git(repo, "rm", "-rq", "cfg")
    commit_all(repo, "remove")
    for argv in (["--history"], ["--git", f"{base}..HEAD"]):
        code, out, _ = run(capsys, "scan", *argv, "-f", "json")
        [finding] = json.loads(out)["findings"]
        assert code == 1
        assert finding["location"] == "path" and finding["commit"] == added
        assert finding["present_at_head"] is False
        assert finding["path"] == f"cfg/{token[:11]}…"
        code, out, err = run(capsys, "scan", *argv)
        assert token not in out + err and "(in the name)" in out


def test_config_prints_terminal_controls_escaped_and_still_valid_toml(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from copera_secretscan.config.locate import toml_module

    words = ["a\u202eb", "\u009b31m", "café"]
    (repo / ".copera-secretscan.toml").write_text(
        "placeholders = [" + ", ".join(json.dumps(w) for w in words) + "]\n", encoding="utf-8"
    )
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert all(char.isprintable() or char == "\n" for char in out)
    line = next(line for line in out.splitlines() if line.startswith("placeholders"))
    assert toml_module().loads(line.split("  #")[0])["placeholders"] == words


def test_a_range_reports_only_the_names_it_adds(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tree new in a range also lists old names beside the changed entry: an old token-named
    file is not what this range (a pull request, a push) brings."""
    from tests.conftest import commit_all

    old, new = make_token("cp_pat_", 30, seed=49), make_token("cp_key_", 30, seed=50)
    (repo / "d").mkdir()
    (repo / "d" / f"{old}.txt").write_text("legacy\n")
    (repo / "d" / "sibling.txt").write_text("one\n")
    base = commit_all(repo, "legacy")
    (repo / "d" / "sibling.txt").write_text("two\n")
    touched = commit_all(repo, "touch a sibling")
    assert main(["scan", "--git", f"{base}..{touched}", "-f", "json"]) == 0
    capsys.readouterr()
    (repo / "d" / f"{new}.txt").write_text("new\n")
    added = commit_all(repo, "add")
    code, out, _ = run(capsys, "scan", "--git", f"{touched}..{added}", "-f", "json")
    [finding] = json.loads(out)["findings"]
    assert code == 1 and finding["rule_id"] == "copera-key" and finding["commit"] == added


@pytest.mark.parametrize("key", ["description", "revoke"])
def test_a_custom_rule_text_with_a_terminal_control_is_refused(
    key: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rule's description and advice are printed in every report: a config (say, from a pull
    request) must not be able to send escape sequences to whoever reads them."""
    (repo / ".copera-secretscan.toml").write_text(
        f'[[rules]]\nid = "acme"\nprefix = "acme_"\n{key} = "x\\u001b]0;pwned\\u0007"\n'
    )
    code, out, err = run(capsys, "scan", ".")
    assert code == 2
    assert "control characters are not allowed" in err and "\x1b" not in out + err
