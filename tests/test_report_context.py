"""The advice fits where the token sits (issue 12): a token only staged never reached history,
one in commits about to be pushed can be dropped by rewriting them, one in history needs
revoking and a rewrite. Every format that gives advice says the same sentence for a context."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copera_secretscan.cli.main import cli
from copera_secretscan.models import HISTORY, PUSHED, STAGED, WORKTREE
from copera_secretscan.report import ReportOptions, writer
from copera_secretscan.report.human import next_step
from tests.conftest import cli_runner, commit_all, git
from tests.report_samples import full_result
from tests.tokens import make_token


def scan(*args: str, env: dict | None = None) -> str:
    result = cli_runner().invoke(cli, ["scan", *args], env=env)
    assert result.exit_code == 1, result.output
    return result.stdout


def test_a_staged_token_needs_no_history_rewrite(repo: Path) -> None:
    (repo / "app.env").write_text(f"KEY={make_token('cp_key_', 32, seed=1)}\n")
    git(repo, "add", "app.env")

    out = scan("--staged")

    assert "not in git history yet" in out and "`git add` the file again" in out
    assert "filter-repo" not in out and "from git history" not in out
    assert "Revoke it now in Copera" in out  # the kind's own revoke text stays


def test_a_token_about_to_be_pushed_says_rewriting_local_commits_is_enough(repo: Path) -> None:
    (repo / "a.txt").write_text("a\n")
    base = commit_all(repo, "base")
    (repo / "a.txt").write_text(f"{make_token('cp_pat_', 32, seed=2)}\n")
    tip = commit_all(repo, "token")

    out = scan("--pre-push", env={"PRE_COMMIT_FROM_REF": base, "PRE_COMMIT_TO_REF": tip})

    assert "git rebase -i" in out and "git commit --amend" in out
    assert "Already pushed: revoke it" in out


def test_a_token_in_history_says_revoke_then_rewrite(repo: Path) -> None:
    (repo / "a.txt").write_text(f"{make_token('cp_oat_', 32, seed=3)}\n")
    commit_all(repo, "token")
    (repo / "a.txt").write_text("gone\n")
    commit_all(repo, "remove it")

    out = scan("--history")

    assert "It is in git history: revoke it now" in out and "git filter-repo" in out


@pytest.mark.parametrize("context", [WORKTREE, STAGED, PUSHED, HISTORY])
@pytest.mark.parametrize("fmt", ["text", "junit", "github", "sarif", "gitlab", "json"])
def test_every_format_gives_the_one_sentence_for_the_context(fmt: str, context: str) -> None:
    result = full_result()._replace(context=context)
    others = {next_step(c) for c in (WORKTREE, STAGED, PUSHED, HISTORY)} - {next_step(context)}

    text = writer(fmt)(result, ReportOptions())
    if fmt in ("sarif", "gitlab", "json"):  # JSON: compare the decoded strings
        text = json.dumps(json.loads(text), ensure_ascii=False)

    assert next_step(context) in text
    assert not any(other in text for other in others)


# Each kind's own place to revoke it, from the kinds table (issue 13): a PAT in Workspace
# Settings, an integration key with its integration, an MCP token by disconnecting the client.
PLACES = {
    "cp_pat_": "Workspace Settings → Integrations → Personal Tokens",
    "cp_key_": "the integration's API keys",
    "cp_oat_": "disconnect the MCP client",
}


@pytest.mark.parametrize("prefix", sorted(PLACES))
def test_every_finding_names_where_to_revoke_its_kind_in_text_sarif_and_json(
    repo: Path, prefix: str
) -> None:
    (repo / "app.env").write_text(f"T={make_token(prefix, 32, seed=5)}\n")
    place = PLACES[prefix]
    assert place in scan("app.env")
    [finding] = json.loads(scan("-f", "json", "app.env"))["findings"]
    assert finding["remediation"][0].count(place) == 1  # revoke first, where
    assert next_step(WORKTREE) in finding["remediation"]  # then what to do in the repository
    sarif = json.loads(scan("-f", "sarif", "app.env"))
    [rule] = [
        r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == finding["rule_id"]
    ]
    assert place in rule["help"]["text"] and place in rule["help"]["markdown"]
