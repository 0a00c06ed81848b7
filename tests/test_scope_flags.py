"""``--exclude PATTERN`` and ``--disable-rule ID`` on the command line, mirrored by the config's
``exclude`` and ``disable_rules``: what a scan looks at, in every mode and entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Tuple

import pytest

from copera_secretscan import quick
from copera_secretscan.cli.main import main
from tests.conftest import commit_all, git, git_hooked, install_hooks
from tests.tokens import make_token

CONFIG = ".copera-secretscan.toml"
PAT = make_token("cp_pat_", 32, seed=41)
KEY = make_token("cp_key_", 32, seed=42)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def rules_found(capsys: pytest.CaptureFixture[str], *args: str) -> List[str]:
    code, out, err = run(capsys, "scan", "--format", "json", *args)
    assert code in (0, 1), err
    return sorted(f"{f['path']}:{f['rule_id']}" for f in json.loads(out)["findings"])


@pytest.fixture
def two_kinds(repo: Path) -> Path:
    """A repository whose a.env holds a personal token and an integration key."""
    (repo / "a.env").write_text(f"PAT={PAT}\nKEY={KEY}\n")
    return repo


# --- --disable-rule, in every mode ------------------------------------------------------------


def test_disabled_rule_in_a_scan_of_paths(
    two_kinds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert rules_found(capsys) == ["a.env:copera-key", "a.env:copera-pat"]
    assert rules_found(capsys, "--disable-rule", "copera-pat") == ["a.env:copera-key"]
    code, out, _ = run(
        capsys, "scan", "--disable-rule", "copera-pat", "--disable-rule=copera-key", "a.env"
    )
    assert code == 0 and "No Copera tokens found" in out


def test_disabled_rule_on_the_index_through_both_entry_points(
    two_kinds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(two_kinds, "add", "a.env")
    assert quick.main(["scan", "--staged", "--disable-rule", "copera-pat", "-f", "json"]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [f["rule_id"] for f in found] == ["copera-key"]
    args = ["--disable-rule", "copera-pat", "--disable-rule", "copera-key"]
    assert quick.hook_main(args) == 0  # the hook given no file names checks the index
    assert quick.hook_main([*args, "a.env"]) == 0
    assert quick.hook_main(["a.env"]) == 1


def test_disabled_rule_in_history_and_commit_messages(
    two_kinds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    commit_all(two_kinds, f"add keys\n\nold key {KEY}")
    (two_kinds / "a.env").write_text("gone\n")
    commit_all(two_kinds, "remove them")
    kinds = {finding.rsplit(":", 1)[1] for finding in rules_found(capsys, "--history")}
    assert kinds == {"copera-key", "copera-pat"}
    left = rules_found(capsys, "--history", "--disable-rule", "copera-key")
    assert {finding.rsplit(":", 1)[1] for finding in left} == {"copera-pat"}  # message's too
    (two_kinds / "MSG").write_text(f"fix\n\n{KEY}\n")
    assert run(capsys, "scan", "--commit-msg", "MSG")[0] == 1
    assert run(capsys, "scan", "--commit-msg", "MSG", "--disable-rule", "copera-key")[0] == 0


def test_disabled_rule_in_what_a_push_sends(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "x").write_text("x\n")
    base = commit_all(repo, "base")
    (repo / "k.env").write_text(f"KEY={KEY}\n")
    tip = commit_all(repo, "a key")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)  # as pre-commit's pre-push stage says
    monkeypatch.setenv("PRE_COMMIT_TO_REF", tip)
    assert run(capsys, "scan", "--pre-push")[0] == 1
    assert run(capsys, "scan", "--pre-push", "--disable-rule", "copera-key")[0] == 0


def test_disabled_rule_in_file_names(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """git stores names too: a token in a name is reported, unless its rule is off."""
    (repo / f"{KEY}.txt").write_text("nothing\n")
    git(repo, "add", "-A")
    assert run(capsys, "scan", "--staged")[0] == 1
    assert run(capsys, "scan", "--staged", "--disable-rule", "copera-key")[0] == 0


def test_config_disable_rules_is_honoured_by_the_lean_hook(
    two_kinds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lean check never reads the config: one that may apply sends the hook to the CLI."""
    (two_kinds / "a.env").write_text(f"KEY={KEY}\n")
    (two_kinds / CONFIG).write_text('disable_rules = ["copera-key"]\n')
    git(two_kinds, "add", "a.env")
    assert quick.plan(["a.env"]) is None
    assert quick.hook_main(["a.env"]) == 0
    assert quick.main(["scan", "--staged"]) == 0
    (two_kinds / CONFIG).write_text("disable_rules = []\n")
    assert quick.hook_main(["a.env"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--disable-rule", "copera-pats"],
            "--disable-rule: no rule 'copera-pats' (expected one of: copera-pat, copera-key, "
            "copera-oat)",
        ),
        (
            [
                "--disable-rule",
                "copera-pat",
                "--disable-rule",
                "copera-key",
                "--disable-rule",
                "copera-oat",
            ],
            "--disable-rule: every rule is disabled, so nothing would ever be reported",
        ),
        (["--exclude", "[z-a]"], "Invalid value for '--exclude': invalid gitignore-style pattern"),
        (["--exclude", " "], "--exclude: empty value (an unset variable?)"),
    ],
)
def test_a_wrong_value_is_a_usage_error_in_one_line(
    two_kinds: Path, capsys: pytest.CaptureFixture[str], args: List[str], message: str
) -> None:
    for argv in (["scan", *args], ["baseline", "create", *args]):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, "")
        assert err.startswith(f"copera-secretscan: error: {message}")
        assert err.count("\n") == 1
    assert not (two_kinds / ".copera-secretscan-baseline.json").exists()
    assert quick.hook_main([*args, "a.env"]) == 2


def test_config_ids_are_known_to_the_flag(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A custom rule's id can be disabled, and an unknown id names the custom ones too."""
    (repo / CONFIG).write_text('[[rules]]\nid = "acme"\nprefix = "acme_live_"\n')
    code, _, err = run(capsys, "scan", "--disable-rule", "acme-live")
    assert code == 2
    assert "(expected one of: copera-pat, copera-key, copera-oat, acme)" in err


# --- --exclude --------------------------------------------------------------------------------


@pytest.fixture
def spread(repo: Path) -> Path:
    for seed, name in enumerate(["src/app.py", "vendor/x.py", "web/a.min.js", "web/keep.min.js"]):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(f"T = '{make_token('cp_pat_', 32, seed=seed)}'\n")
    return repo


def test_exclude_skips_walked_and_named_files(
    spread: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--exclude", "vendor/", "--exclude", "*.min.js"]
    assert [f.split(":")[0] for f in rules_found(capsys, *flags)] == ["src/app.py"]
    named = ["vendor/x.py", "web/a.min.js", "src/app.py"]
    assert [f.split(":")[0] for f in rules_found(capsys, *flags, *named)] == ["src/app.py"]


def test_exclude_adds_to_the_config_and_may_take_a_pattern_back(
    spread: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (spread / CONFIG).write_text('exclude = ["*.min.js"]\n')
    found = rules_found(capsys, "--exclude", "vendor/", "--exclude", "!keep.min.js")
    assert [f.split(":")[0] for f in found] == ["src/app.py", "web/keep.min.js"]


def test_exclude_is_read_from_the_repository_root(
    spread: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """From a subdirectory, and with a config elsewhere whose own patterns read from its dir."""
    (spread / "conf").mkdir()
    (spread / "conf" / "c.toml").write_text('exclude = ["/x.py"]\n')  # conf/x.py: none here
    monkeypatch.chdir(spread / "web")
    found = rules_found(capsys, "--config", "../conf/c.toml", "--exclude", "/web/a.min.js", "..")
    paths = sorted(str(Path(f.split(":")[0]).resolve().relative_to(spread)) for f in found)
    assert paths == ["src/app.py", "vendor/x.py", "web/keep.min.js"]


def test_exclude_applies_to_every_git_mode_as_to_files_on_disk(
    spread: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index, history, a push and archive members: an excluded path is excluded whatever
    read it, so the push hook never blocks what the commit hook let through."""
    import zipfile

    with zipfile.ZipFile(spread / "vendor" / "bundle.zip", "w") as archive:
        archive.writestr("inner.env", f"KEY={KEY}\n")
    (spread / "x").write_text("x\n")
    git(spread, "add", "x")
    git(spread, "commit", "-q", "--no-verify", "-m", "base")
    base = git(spread, "rev-parse", "HEAD").strip()
    git(spread, "add", "-A")
    flags = ["--exclude", "vendor/", "--exclude", "*.min.js"]
    staged = rules_found(capsys, "--staged", *flags)
    assert [f.split(":")[0] for f in staged] == ["src/app.py"]
    tip = commit_all(spread, "everything")
    for mode in (["--history"], ["--git", f"{base}..{tip}"]):
        found = rules_found(capsys, *mode, *flags)
        assert [f.split(":")[0] for f in found] == ["src/app.py"], mode
    everything = rules_found(capsys, "--history")
    assert "vendor/bundle.zip!inner.env:copera-key" in everything  # the member is found...
    (spread / CONFIG).write_text('exclude = ["*.zip"]\n')
    assert not [f for f in rules_found(capsys, "--history") if ".zip" in f]  # ...and excluded
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", tip)
    pushed = rules_found(capsys, "--pre-push", *flags)
    assert [f.split(":")[0] for f in pushed] == ["src/app.py"]


def test_exclude_hands_the_lean_hook_to_the_cli(
    spread: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert quick.plan(["--exclude", "vendor/", "src/app.py"]) is None
    assert quick.hook_main(["--exclude", "vendor/", "vendor/x.py"]) == 0
    assert quick.hook_main(["--exclude", "vendor/", "vendor/x.py", "src/app.py"]) == 1


def test_baseline_create_honours_both(spread: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (spread / "web" / "k.env").write_text(f"KEY={KEY}\n")
    code, out, _ = run(
        capsys, "baseline", "create", "--exclude", "*.js", "--disable-rule", "copera-pat"
    )
    assert (code, out) == (0, "Wrote .copera-secretscan-baseline.json: 1 entry.\n")
    entries = json.loads((spread / ".copera-secretscan-baseline.json").read_text())["entries"]
    assert [entry["path"] for entry in entries] == ["web/k.env"]


PRE_COMMIT_CONFIG = """\
repos:
  - repo: {path}
    rev: {sha}
    hooks:
      - id: copera-secretscan
        args: [--exclude, vendor/, --disable-rule, copera-key]
"""


def test_the_real_pre_commit_passes_both_with_its_file_names(
    repo: Path, hook_repo: Tuple[str, str], pre_commit_home: Path
) -> None:
    """pre-commit appends the staged names after the hook's args: each option keeps its value."""
    path, sha = hook_repo
    install_hooks(repo, pre_commit_home, PRE_COMMIT_CONFIG.format(path=path, sha=sha))
    (repo / "vendor").mkdir()
    (repo / "vendor" / "lib.py").write_text(f"T = '{PAT}'\n")
    (repo / "k.env").write_text(f"KEY={KEY}\n")
    git(repo, "add", "-A")
    passed = git_hooked(repo, pre_commit_home, "commit", "-m", "vendored, and a key")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    (repo / "app.py").write_text(f"T = '{PAT}'\n")
    git(repo, "add", "-A")
    blocked = git_hooked(repo, pre_commit_home, "commit", "-m", "a personal token")
    assert blocked.returncode == 1
    said = blocked.stdout + blocked.stderr  # git shows a hook's output on its stderr
    assert "app.py" in said and "vendor" not in said
