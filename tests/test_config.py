"""The config file: where it is found, what overrides what, and every mistake's message."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import List, Tuple

import pytest

from copera_secretscan.cli.main import main
from copera_secretscan.config import file as configfile
from copera_secretscan.config.settings import load_settings, make_excluder
from copera_secretscan.engine.rules import DEFAULT_TIMEOUT
from tests.tokens import make_token

CONFIG = ".copera-secretscan.toml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def findings(capsys: pytest.CaptureFixture[str], *args: str) -> List[str]:
    """``path:rule_id`` of every finding of ``scan ARGS --format json``."""
    code, out, err = run(capsys, "scan", "--format", "json", *args)
    assert code in (0, 1), err
    return [f"{f['path']}:{f['rule_id']}" for f in json.loads(out)["findings"]]


# --- where the config comes from, and what wins -------------------------------------------


def test_no_config_means_defaults_from_nowhere(repo: Path) -> None:
    settings = load_settings(start=str(repo))
    assert (settings.min_length, settings.exclude, settings.config_file) == (16, (), None)
    assert settings.origin("min_length") == "default"
    assert settings.root == str(repo.resolve())


def test_pyproject_table_is_read(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.copera-secretscan]\nmin_length = 20\n'
    )
    settings = load_settings(start=str(repo))
    assert settings.min_length == 20
    assert settings.origin("min_length") == "pyproject.toml"


def test_dedicated_file_wins_over_pyproject(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.copera-secretscan]\nmin_length = 20\n")
    (repo / CONFIG).write_text("min_length = 24\n")
    settings = load_settings(start=str(repo))
    assert (settings.min_length, settings.origin("min_length")) == (24, CONFIG)


def test_config_option_wins_over_both(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text("[tool.copera-secretscan]\nmin_length = 20\n")
    (repo / CONFIG).write_text("min_length = 24\n")
    (repo / "other.toml").write_text("min_length = 30\n")
    code, out, _ = run(capsys, "config", "--config", "other.toml")
    assert code == 0
    assert _row(out, "min_length") == ("min_length = 30", "other.toml")


def test_flag_wins_over_every_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Behaviour, not just bookkeeping: a 20-character body is reported only under the flag."""
    (repo / CONFIG).write_text("min_length = 24\n")
    token = make_token("cp_pat_", 20, seed=3)
    (repo / "app.py").write_text(f"T = '{token}'\n")
    assert findings(capsys) == []
    assert findings(capsys, "--min-length", "16") == ["app.py:copera-pat"]
    settings = load_settings(start=str(repo)).with_flags(min_length=16)
    assert settings.origin("min_length") == "command line"


def test_config_is_found_from_a_subdirectory(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / CONFIG).write_text('exclude = ["fixtures/"]\n')
    (repo / "src" / "fixtures").mkdir(parents=True)
    (repo / "src" / "fixtures" / "f.txt").write_text(make_token("cp_key_", 30, seed=4) + "\n")
    monkeypatch.chdir(repo / "src")
    assert findings(capsys, ".") == []


def test_config_command_shows_every_value_and_its_origin(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / CONFIG).write_text(
        'exclude = ["vendor/"]\nallow_markers = ["gitleaks:allow"]\nbaseline = "b.json"\n'
        '[[rules]]\nid = "acme"\nprefix = "acme_live_"\nbody = "[a-f0-9]{32}"\n'
    )
    code, out, _ = run(capsys, "config")
    assert code == 0
    assert _row(out, "exclude") == ('exclude = ["vendor/"]', CONFIG)
    assert _row(out, "allow_markers") == ('allow_markers = ["gitleaks:allow"]', CONFIG)
    assert _row(out, "baseline") == ('baseline = "b.json"', CONFIG)
    assert _row(out, "min_length") == ("min_length = 16", "default")
    assert _row(out, "disable_rules") == ("disable_rules = []", "default")
    assert _row(out, "placeholders") == ("placeholders = []", "default")
    assert f'[[rules]]  # {CONFIG}\nid = "acme"\nprefix = "acme_live_"' in out
    assert "#   copera-pat: cp_pat_" in out


def _row(out: str, key: str) -> Tuple[str, str]:
    line = next(line for line in out.splitlines() if line.startswith(f"{key} = "))
    value, _, origin = line.partition("  # ")
    return value.rstrip(), origin


# --- every validation error -------------------------------------------------------------

ERRORS = [
    (
        "exclued = []",
        "unknown key 'exclued' (expected one of: allow_markers, archive_bytes, archive_depth, "
        "archive_members, archive_total_bytes, baseline, disable_rules, exclude, "
        "fail_on_unrotated, min_length, "
        "placeholders, rules)",
    ),
    ('min_length = "20"', "min_length: expected an integer from 1 to 4096, got a string"),
    ('disable_rules = "copera-oat"', "disable_rules: expected an array of strings, got a string"),
    (
        'disable_rules = ["copera-oaty"]',
        "disable_rules: no rule 'copera-oaty' (expected one of: copera-pat, copera-key, "
        "copera-oat)",
    ),
    (
        'disable_rules = ["copera-pat", "copera-key", "copera-oat"]',
        "disable_rules: every rule is disabled, so nothing would ever be reported",
    ),
    ("min_length = 0", "min_length: expected an integer from 1 to 4096, got 0"),
    ("min_length = 5000", "min_length: expected an integer from 1 to 4096, got 5000"),
    ("min_length = true", "min_length: expected an integer from 1 to 4096, got a boolean"),
    ("min_length = 2.5", "min_length: expected an integer from 1 to 4096, got a float"),
    ('exclude = "vendor/"', "exclude: expected an array of strings, got a string"),
    ("exclude = [1]", "exclude: expected an array of strings, got an array"),
    (
        'allow_markers = [""]',
        "allow_markers: expected an array of non-empty strings, got an empty one",
    ),
    ("placeholders = 3", "placeholders: expected an array of strings, got an integer"),
    ("placeholders = {a = 1}", "placeholders: expected an array of strings, got a table"),
    ("baseline = 1", "baseline: expected a file path (a string), got an integer"),
    ('baseline = ""', "baseline: expected a file path (a string), got an empty string"),
    ("baseline = 2024-01-01", "baseline: expected a file path (a string), got a date or time"),
    ('rules = "acme"', "rules: expected [[rules]] tables, got a string"),
    ('[[rules]]\nid = "acme"', "rules[0]: missing 'prefix'"),
    ('[[rules]]\nprefix = "acme_"', "rules[0]: missing 'id'"),
    (
        '[[rules]]\nid = "acme"\nprefix = "acme_"\npattern = "x"',
        "rules[0]: unknown key 'pattern' (expected one of: id, prefix, body, description, revoke)",
    ),
    (
        '[[rules]]\nid = "Acme Token"\nprefix = "acme_"',
        "rules[0].id: expected lowercase letters, digits, '.', '_' or '-' (at most 64), "
        "got 'Acme Token'",
    ),
    (
        '[[rules]]\nid = "copera-pat"\nprefix = "acme_"',
        "rules[0].id: 'copera-pat' is already the id of a built-in rule",
    ),
    (
        '[[rules]]\nid = "a"\nprefix = "acme_"\n[[rules]]\nid = "a"\nprefix = "acme2_"',
        "rules[1].id: 'a' is already the id of a rule",
    ),
    (
        '[[rules]]\nid = "acme"\nprefix = "cp_pat_"',
        "rules[0].prefix: 'cp_pat_' is already the prefix of built-in rule 'copera-pat'",
    ),
    (
        '[[rules]]\nid = "acme"\nprefix = "ac"',
        "rules[0].prefix: expected 3 to 64 token characters (A-Z a-z 0-9 _ -), got 'ac'",
    ),
    (
        '[[rules]]\nid = "acme"\nprefix = "acme key"',
        "rules[0].prefix: expected 3 to 64 token characters (A-Z a-z 0-9 _ -), got 'acme key'",
    ),
    (
        '[[rules]]\nid = "acme"\nprefix = 7',
        "rules[0].prefix: expected a non-empty string, got an integer",
    ),
    (
        '[[rules]]\nid = "acme"\nprefix = "acme_"\ndescription = ""',
        "rules[0].description: expected a non-empty string, got an empty string",
    ),
    (
        '[[rules]]\nid = "acme"\nprefix = "acme_"\nbody = "([a-z]"',
        "rules[0].body: invalid body pattern '([a-z]': missing ) at position 6",
    ),
    ("min_length = 20\nexclude = [\n", "invalid TOML: "),
    (
        'exclude = ["ok/", "[z-a]"]',
        "exclude: invalid gitignore-style pattern '[z-a]': bad character range z-a",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_every_mistake_is_one_line_naming_file_and_key(
    repo: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (repo / CONFIG).write_text(text + "\n")
    code, out, err = run(capsys, "scan")
    assert code == 2
    assert out == ""
    assert err.startswith(f"copera-secretscan: error: {CONFIG}: {message}")
    assert err.count("\n") == 1


def test_toml_syntax_error_names_the_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / CONFIG).write_text('min_length = 20\nexclude = ["a",\nplaceholders = 3\n')
    code, _, err = run(capsys, "scan")
    assert code == 2
    assert "(at line 3, column" in err


def test_pyproject_errors_name_pyproject(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text("[tool.copera-secretscan]\nmin_lenght = 20\n")
    code, _, err = run(capsys, "scan")
    assert code == 2
    assert err.startswith("copera-secretscan: error: pyproject.toml: unknown key 'min_lenght'")


def test_pyproject_table_of_the_wrong_type(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "other.toml").write_text("")
    (repo / "pyproject.toml").write_text('[tool]\ncopera-secretscan = "yes"\n')
    code, _, err = run(capsys, "scan", "--config", "pyproject.toml")
    assert (code, err) == (
        2,
        "copera-secretscan: error: pyproject.toml: tool.copera-secretscan: expected a table, "
        "got a string\n",
    )


ACME_RULE = 'rules = [{ id = "acme", prefix = "acme_live_" }]'
PYPROJECT_SPELLINGS = [
    f'[project]\nname = "x"\n\n[tool."copera-secretscan"]\n{ACME_RULE}\n',
    f"[tool.'copera-secretscan']\n{ACME_RULE}\n",
    f"tool.copera-secretscan = {{ {ACME_RULE} }}\n",
    f"[tool]\ncopera-secretscan = {{ {ACME_RULE} }}\n",
    f'[tool]\n"copera-secretscan".{ACME_RULE}\n',
    f'[ tool . "copera\\u002Dsecretscan" ]\n{ACME_RULE}\n',
]


@pytest.mark.parametrize("text", PYPROJECT_SPELLINGS)
def test_every_toml_spelling_of_the_pyproject_table_is_read(
    repo: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """Each is the same TOML table: missing one drops the user's rules and passes their tokens."""
    (repo / "pyproject.toml").write_text(text)
    (repo / "a.env").write_text("ACME=acme_live_Xq7Lp2Rt9Vw4Zk8Mn3Bj\n")
    assert findings(capsys) == ["a.env:acme"]
    assert load_settings(start=str(repo)).origin("rules") == "pyproject.toml"


def test_pyproject_that_only_names_us_has_no_config(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[project.optional-dependencies]\n'
        'dev = ["copera-secretscan>=0.1"]\n[tool.ruff]\nline-length = 99\n'
    )
    settings = load_settings(start=str(repo))
    assert (settings.config_file, settings.origin("min_length")) == (None, "default")
    assert run(capsys, "scan") == (0, "No Copera tokens found (1 file scanned).\n", "")


@pytest.mark.parametrize(
    ("text", "got"),
    [('tool = "x"\n', "a string"), ('[[tool]]\nx = "copera-secretscan"\n', "an array")],
)
def test_pyproject_tool_that_is_not_a_table(
    repo: Path, capsys: pytest.CaptureFixture[str], text: str, got: str
) -> None:
    (repo / "pyproject.toml").write_text(f"# copera-secretscan\n{text}")
    error = f"copera-secretscan: error: pyproject.toml: tool: expected a table, got {got}\n"
    assert run(capsys, "scan") == (2, "", error)
    assert run(capsys, "scan", "--config", "pyproject.toml") == (2, "", error)


def test_missing_config_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", "--config", "nope.toml")
    assert (code, err) == (2, "copera-secretscan: error: nope.toml: no such config file\n")


def test_config_that_is_not_utf8(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / CONFIG).write_bytes(b"min_length = 20 # caf\xe9\n")
    code, _, err = run(capsys, "scan")
    assert (code, err) == (2, f"copera-secretscan: error: {CONFIG}: config is not UTF-8 text\n")


# --- excludes ---------------------------------------------------------------------------


@pytest.fixture
def excluding_repo(repo: Path) -> Path:
    (repo / CONFIG).write_text('exclude = ["vendor/", "*.min.js", "!keep.min.js", "/top.txt"]\n')
    files = [
        "src/app.py",
        "vendor/lib/x.py",
        "web/a.min.js",
        "web/keep.min.js",
        "top.txt",
        "src/top.txt",
    ]
    for seed, name in enumerate(files):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(f"T = '{make_token('cp_pat_', 32, seed=seed)}'\n")
    return repo


def test_excludes_apply_to_directory_walks(
    excluding_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sorted(findings(capsys)) == [
        "src/app.py:copera-pat",
        "src/top.txt:copera-pat",
        "web/keep.min.js:copera-pat",
    ]


def test_excludes_apply_to_explicit_files(
    excluding_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pre-commit names files explicitly, so an excluded file must stay excluded then too."""
    named = ["vendor/lib/x.py", "web/a.min.js", "top.txt", "src/app.py"]
    assert findings(capsys, *named) == ["src/app.py:copera-pat"]


def test_excludes_are_relative_to_the_config_not_the_cwd(
    excluding_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(excluding_repo / "src")
    assert sorted(findings(capsys, ".", "../vendor/lib/x.py", "../top.txt")) == [
        "app.py:copera-pat",
        "top.txt:copera-pat",
    ]


def test_excluder_tells_directories_from_files(tmp_path: Path) -> None:
    excluded = make_excluder(("build/",), str(tmp_path))
    assert excluded(str(tmp_path / "build"), True)
    assert not excluded(str(tmp_path / "build"), False)  # a file named build
    assert excluded(str(tmp_path / "build" / "out.txt"), False)
    assert not excluded(str(tmp_path.parent / "build" / "x"), False)  # outside the config dir


def test_no_excludes_means_no_predicate() -> None:
    assert load_settings().excluder() is None


# --- allow markers, placeholders, custom rules ---------------------------------------------


def test_extra_allow_markers_and_placeholders(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / CONFIG).write_text(
        'allow_markers = ["gitleaks:allow", "pragma: allowlist secret"]\nplaceholders = ["Qzv9"]\n'
    )
    one, two, three = (make_token("cp_pat_", 32, seed=s) for s in (11, 12, 13))
    (repo / "a.py").write_text(
        f"A = '{one}'  # gitleaks:allow\nB = '{two}'  # pragma: allowlist secret\n"
        f"C = '{three}'\nD = 'cp_key_Qzv9Qzv9Qzv9Qzv9Qzv9'\n"
    )
    assert findings(capsys) == ["a.py:copera-pat"]


def test_custom_rule_is_found(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / CONFIG).write_text(
        '[[rules]]\nid = "acme-live"\nprefix = "acme_live_"\nbody = "[a-f0-9]{32}"\n'
        'description = "ACME live key"\n'
        '[[rules]]\nid = "acme-any"\nprefix = "acmeany_"\n'
    )
    key = "acme_live_" + "0f3a9c1e7b2d4f6a8c0e1b3d5f7a9c2e"
    (repo / "a.env").write_text(f"ACME={key}\nOTHER=acmeany_Xq7Lp2Rt9Vw4Zk8Mn3Bj\n")
    (repo / "b.env").write_text("ACME=acme_live_nothexnothexnothexnothexnothex1\n")
    assert findings(capsys) == ["a.env:acme-live", "a.env:acme-any"]
    code, out, _ = run(capsys, "scan", "a.env")
    assert code == 1
    assert key not in out


def test_catastrophic_pattern_fails_fast_with_a_clear_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / CONFIG).write_text('[[rules]]\nid = "bad"\nprefix = "bad_"\nbody = "(a+)+$"\n')
    (repo / "long.txt").write_text(("bad_" + "a" * 5000 + "!\n") * 200)
    started = time.monotonic()
    code, _, err = run(capsys, "scan")
    assert time.monotonic() - started < DEFAULT_TIMEOUT
    assert code == 2
    assert err == (
        f"copera-secretscan: error: {CONFIG}: rules[0].body: pattern '(a+)+$' backtracks "
        "catastrophically (over 0.02s on 4096 bytes of 'a' repeated); simplify it\n"
    )


def test_pattern_that_slips_past_the_check_times_out_on_the_input(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-candidate timeout is the backstop when the load-time probes miss a pattern."""
    monkeypatch.setattr(configfile, "_probes", lambda pattern: [])
    (repo / CONFIG).write_text('[[rules]]\nid = "bad"\nprefix = "bad_"\nbody = "(ab|a|b)+$"\n')
    (repo / "long.txt").write_text("bad_" + "ab" * 2000 + "!\n")  # under MAX_BODY: no $ at the cut
    started = time.monotonic()
    code, _, err = run(capsys, "scan")
    # Exponential backtracking on 4000 characters would run for ages; regex checks its clock
    # coarsely and this machine may be busy, so allow generous slack over the 1 s budget.
    assert time.monotonic() - started < 10 * DEFAULT_TIMEOUT
    assert code == 2
    assert "custom rule 'bad': body pattern '(ab|a|b)+$' took longer than 1s" in err
    assert err.count("\n") == 1


def test_config_command_shows_disabled_rules(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / CONFIG).write_text(
        'disable_rules = ["copera-oat", "acme"]\n[[rules]]\nid = "acme"\nprefix = "acme_live_"\n'
    )
    code, out, _ = run(capsys, "config")
    assert code == 0
    assert _row(out, "disable_rules") == ('disable_rules = ["copera-oat", "acme"]', CONFIG)
    assert "#   copera-oat: cp_oat_ (disabled)\n" in out
    assert "#   copera-pat: cp_pat_\n" in out


def test_a_disabled_custom_rule_is_not_reported(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / CONFIG).write_text(
        'disable_rules = ["acme"]\n[[rules]]\nid = "acme"\nprefix = "acme_live_"\n'
    )
    (repo / "a.env").write_text(f"A=acme_live_{make_token('', 32, seed=4)}\n")
    assert findings(capsys, "a.env") == []
    assert findings(capsys, "--disable-rule", "copera-pat", "a.env") == []  # the flag adds
    (repo / CONFIG).write_text('[[rules]]\nid = "acme"\nprefix = "acme_live_"\n')
    assert findings(capsys, "a.env") == ["a.env:acme"]
    code, _, err = run(capsys, "scan", "--disable-rule", "acme", "a.env")  # all off but one
    assert (code, err) == (0, "")
