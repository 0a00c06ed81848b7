"""``scan --ci``: the CI gate scans the commits a pipeline brings, not the final tree (issue 12).

Each test builds a bare "origin", a developer clone that pushes to it, and a CI checkout (a
``git clone`` of the bare repository, with its remote-tracking refs, detached at the commit
the pipeline runs on), then sets the provider's variables (and GitHub's event payload) the
way that provider would for the push, pull or merge request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import pytest

from copera_secretscan.cli.main import main
from tests.conftest import CHECKOUT, commit_all, git
from tests.tokens import make_token

ZEROS = "0" * 40
MARKERS = ("GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "BITBUCKET_BUILD_NUMBER", "JENKINS_URL")


class Remote:
    """A bare origin, a developer clone that pushes to it, and CI checkouts of it."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.bare = tmp / "origin.git"
        git(tmp, "init", "-q", "--bare", str(self.bare))
        self.dev = tmp / "dev"
        git(tmp, "clone", "-q", self.url, str(self.dev))

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def commit(self, name: str, text: Optional[str], message: str = "change") -> str:
        """Write (or, with None, delete) ``name`` in the developer clone and commit."""
        path = self.dev / name
        if text is None:
            path.unlink()
        else:
            path.write_text(text)
        return commit_all(self.dev, message)

    def push(self, *args: str) -> None:
        git(self.dev, "push", "-q", *args)

    def checkout(self, sha: str, *clone_args: str) -> Path:
        """A CI checkout: a clone of origin, detached at ``sha``."""
        path = self.tmp / f"ci-{sha[:7]}-{len(list(self.tmp.iterdir()))}"
        git(self.tmp, "clone", "-q", *clone_args, self.url, str(path))
        git(path, "checkout", "-q", "--detach", sha)
        return path


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Remote:
    """An origin whose main already holds one pushed commit."""
    for marker in MARKERS:  # the suite itself may run in CI
        monkeypatch.delenv(marker, raising=False)
    made = Remote(tmp_path)
    made.commit("README.md", "hello\n", "start")
    made.push("origin", "HEAD:main")
    return made


def leak_and_delete(remote: Remote, seed: int) -> tuple[str, str]:
    """Two commits: one adds a token, the next deletes it. (the adding commit, the tip)"""
    added = remote.commit("leak.py", f"KEY = '{make_token('cp_pat_', 32, seed=seed)}'\n", "add")
    return added, remote.commit("leak.py", None, "remove it again")


def run_ci(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: Path,
    env: Dict[str, str],
    fmt: str = "json",
) -> tuple[int, str, str]:
    monkeypatch.chdir(where)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["scan", "--ci", "-f", fmt])
    out = capsys.readouterr()
    return code, out.out, out.err


def github(tmp: Path, event: str, payload: dict, branch: str = "main") -> Dict[str, str]:
    path = tmp / f"event-{len(list(tmp.iterdir()))}.json"
    path.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REF_NAME": branch,
        "GITHUB_SHA": payload.get("after", ""),
    }


def gitlab(before: str, sha: str, branch: str = "main") -> Dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": sha,
        "CI_COMMIT_BEFORE_SHA": before,
        "CI_COMMIT_BRANCH": branch,
        "CI_DEFAULT_BRANCH": "main",
        "CI_PIPELINE_SOURCE": "push",
    }


def test_a_github_push_finds_a_token_added_and_deleted_within_it(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = git(remote.dev, "rev-parse", "HEAD").strip()
    added, after = leak_and_delete(remote, seed=1)
    remote.push("origin", "HEAD:main")
    ci = remote.checkout(after)
    env = github(remote.tmp, "push", {"before": before, "after": after})
    code, out, _ = run_ci(monkeypatch, capsys, ci, env)
    [finding] = json.loads(out)["findings"]
    assert (code, finding["path"], finding["commit"]) == (1, "leak.py", added)
    assert json.loads(out)["scanned"] == f"commits {before[:7]}..{after[:7]} (GitHub push to main)"
    assert not (ci / "leak.py").exists()  # the final tree is clean: a tree scan would pass
    code, out, _ = run_ci(monkeypatch, capsys, ci, env, fmt="text")
    assert (
        out.splitlines()[0] == f"Scanned commits {before[:7]}..{after[:7]} (GitHub push to main)."
    )


def test_a_github_merge_queue_scans_its_group_on_top_of_the_base(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = git(remote.dev, "rev-parse", "HEAD").strip()
    added, head = leak_and_delete(remote, seed=7)
    queue = "gh-readonly-queue/main/pr-5-" + base
    remote.push("origin", f"HEAD:refs/heads/{queue}")
    ci = remote.checkout(head)
    payload = {"merge_group": {"head_sha": head, "base_sha": base, "head_ref": queue}}
    env = github(remote.tmp, "merge_group", payload, branch=queue)
    code, out, _ = run_ci(monkeypatch, capsys, ci, env)
    [finding] = json.loads(out)["findings"]
    assert (code, finding["commit"]) == (1, added)
    code, out, _ = run_ci(monkeypatch, capsys, ci, env, fmt="text")
    assert out.splitlines()[0] == (
        f"Scanned commits {base[:7]}..{head[:7]} (GitHub merge queue {queue})."
    )


def test_a_token_only_in_a_pushed_commit_message_is_found(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = git(remote.dev, "rev-parse", "HEAD").strip()
    token = make_token("cp_key_", 32, seed=2)
    after = remote.commit("notes.txt", "fine\n", f"use {token} for now")
    remote.push("origin", "HEAD:main")
    code, out, _ = run_ci(monkeypatch, capsys, remote.checkout(after), gitlab(before, after))
    [finding] = json.loads(out)["findings"]
    assert (code, finding["path"], finding["commit"]) == (1, None, after)


def test_a_clean_push_passes_and_history_before_it_is_not_scanned(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    leak_and_delete(remote, seed=3)  # pushed earlier: not this pipeline's business
    remote.push("origin", "HEAD:main")
    before = git(remote.dev, "rev-parse", "HEAD").strip()
    after = remote.commit("app.py", "print('ok')\n")
    remote.push("origin", "HEAD:main")
    ci = remote.checkout(after)
    for env in (
        github(remote.tmp, "push", {"before": before, "after": after}),
        gitlab(before, after),
    ):
        code, out, err = run_ci(monkeypatch, capsys, ci, env)
        assert (code, json.loads(out)["findings"], err) == (0, [], "")


def pull_request_env(tmp: Path, provider: str, base: str, head: str) -> Dict[str, str]:
    """Each provider's variables for a pull (merge, change) request of ``feature`` into main."""
    if provider == "github":
        payload = {"pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head}}}
        return dict(github(tmp, "pull_request", payload), GITHUB_HEAD_REF="feature")
    if provider == "gitlab":
        return dict(
            gitlab(ZEROS, head, "feature"),
            CI_MERGE_REQUEST_DIFF_BASE_SHA=base,
            CI_MERGE_REQUEST_IID="7",
            CI_PIPELINE_SOURCE="merge_request_event",
        )
    if provider == "azure":
        return {
            "TF_BUILD": "True",
            "BUILD_REASON": "PullRequest",
            "BUILD_SOURCEVERSION": head,
            "SYSTEM_PULLREQUEST_TARGETBRANCH": "refs/heads/main",
            "SYSTEM_PULLREQUEST_SOURCEBRANCH": "refs/heads/feature",
        }
    if provider == "bitbucket":
        return {
            "BITBUCKET_BUILD_NUMBER": "5",
            "BITBUCKET_COMMIT": head,
            "BITBUCKET_BRANCH": "feature",
            "BITBUCKET_PR_DESTINATION_BRANCH": "main",
            "BITBUCKET_PR_ID": "7",
        }
    return {
        "JENKINS_URL": "http://ci/",
        "GIT_COMMIT": head,
        "CHANGE_TARGET": "main",
        "CHANGE_ID": "7",
    }


@pytest.mark.parametrize(
    ("provider", "why"),
    [
        ("github", "commits {base}..{head} (GitHub pull request #7)"),
        ("gitlab", "commits {base}..{head} (GitLab merge request !7)"),
        ("azure", "commits origin/main..{head} (Azure Pipelines pull request ?)"),
        ("bitbucket", "commits origin/main..{head} (Bitbucket pull request #7)"),
        ("jenkins", "commits origin/main..{head} (Jenkins change request 7)"),
    ],
)
def test_a_pull_request_finds_a_token_added_and_deleted_on_its_branch(
    remote: Remote,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    provider: str,
    why: str,
) -> None:
    base = git(remote.dev, "rev-parse", "HEAD").strip()
    git(remote.dev, "checkout", "-q", "-b", "feature")
    added, head = leak_and_delete(remote, seed=4)
    remote.push("origin", "feature")
    ci = remote.checkout(head)
    env = pull_request_env(remote.tmp, provider, base, head)
    code, out, _ = run_ci(monkeypatch, capsys, ci, env)
    [finding] = json.loads(out)["findings"]
    assert (code, finding["commit"]) == (1, added)
    _, out, _ = run_ci(monkeypatch, capsys, ci, env, fmt="text")
    assert out.splitlines()[0] == f"Scanned {why.format(base=base[:7], head=head[:7])}."


def branch_push_env(tmp: Path, provider: str, head: str) -> Dict[str, str]:
    """Each provider's variables for the first build of a pushed branch ``feature``."""
    if provider == "github":
        return github(tmp, "push", {"before": ZEROS, "after": head}, "feature")
    if provider.startswith("gitlab"):
        return gitlab(ZEROS, head, "feature")
    if provider == "azure":
        return {
            "TF_BUILD": "True",
            "BUILD_REASON": "IndividualCI",
            "BUILD_SOURCEVERSION": head,
            "BUILD_SOURCEBRANCH": "refs/heads/feature",
        }
    if provider == "bitbucket":
        return {
            "BITBUCKET_BUILD_NUMBER": "5",
            "BITBUCKET_COMMIT": head,
            "BITBUCKET_BRANCH": "feature",
        }
    return {"JENKINS_URL": "http://ci/", "GIT_COMMIT": head, "GIT_BRANCH": "origin/feature"}


@pytest.mark.parametrize(
    ("provider", "why"),
    [
        ("github", "GitHub push to feature: a new branch"),
        ("gitlab", "GitLab push to feature: a new branch"),
        # GitLab fetches only the branch it builds: the default branch is fetched to compare
        ("gitlab-single-branch", "GitLab push to feature: a new branch"),
        ("azure", "Azure Pipelines build of feature: no earlier commit named"),
        ("bitbucket", "Bitbucket build of feature: no earlier commit named"),
        ("jenkins", "Jenkins build of feature: no earlier commit named"),
    ],
)
def test_a_new_branch_scans_only_the_commits_no_other_remote_branch_has(
    remote: Remote,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    provider: str,
    why: str,
) -> None:
    leak_and_delete(remote, seed=5)  # on main already: another remote branch has it
    remote.push("origin", "HEAD:main")
    git(remote.dev, "checkout", "-q", "-b", "feature")
    added, head = leak_and_delete(remote, seed=6)
    remote.push("origin", "feature")
    single = (
        ("--single-branch", "--branch", "feature") if provider.endswith("single-branch") else ()
    )
    ci = remote.checkout(head, *single)
    env = branch_push_env(remote.tmp, provider, head)
    code, out, _ = run_ci(monkeypatch, capsys, ci, env)
    assert (code, [f["commit"] for f in json.loads(out)["findings"]]) == (1, [added])
    _, out, _ = run_ci(monkeypatch, capsys, ci, env, fmt="text")
    assert out.splitlines()[0] == (
        f"Scanned the 2 commits of feature not on another remote branch ({why})."
    )


def test_a_range_inside_a_shallow_checkout_needs_no_remote(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    leak_and_delete(remote, seed=12)  # older than the checkout's depth: not in the range
    before = remote.commit("a.txt", "a\n")
    after = remote.commit("b.txt", "b\n")
    remote.push("origin", "HEAD:main")
    ci = remote.checkout(after, "--depth", "2")
    git(ci, "remote", "set-url", "origin", str(remote.tmp / "gone.git"))
    code, out, err = run_ci(monkeypatch, capsys, ci, gitlab(before, after))
    assert (code, json.loads(out)["errors"], err) == (0, [], "")
    assert git(ci, "rev-parse", "--is-shallow-repository").strip() == "true"


def test_a_force_push_whose_before_is_gone_scans_what_no_other_branch_has(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    start = git(remote.dev, "rev-parse", "HEAD").strip()
    gone = remote.commit("draft.txt", "draft\n")
    remote.push("origin", "HEAD:main")
    git(remote.dev, "reset", "-q", "--hard", start)
    added, after = leak_and_delete(remote, seed=7)
    remote.push("-f", "origin", "HEAD:main")
    ci = remote.checkout(after)
    env = github(remote.tmp, "push", {"before": gone, "after": after})
    code, out, _ = run_ci(monkeypatch, capsys, ci, env)
    assert (code, [f["commit"] for f in json.loads(out)["findings"]]) == (1, [added])
    _, out, _ = run_ci(monkeypatch, capsys, ci, env, fmt="text")
    assert out.splitlines()[0] == (
        "Scanned the 3 commits of main not on another remote branch "
        f"(GitHub push to main: its base {gone[:7]} is not here)."
    )


def test_a_shallow_checkout_is_deepened_from_its_remote(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = git(remote.dev, "rev-parse", "HEAD").strip()
    added, after = leak_and_delete(remote, seed=8)
    remote.push("origin", "HEAD:main")
    ci = remote.checkout(after, "--depth", "1")
    env = github(remote.tmp, "push", {"before": before, "after": after})
    code, out, _ = run_ci(monkeypatch, capsys, ci, env)
    report = json.loads(out)
    assert (code, [f["commit"] for f in report["findings"]], report["errors"]) == (1, [added], [])
    assert git(ci, "rev-parse", "--is-shallow-repository").strip() == "false"


@pytest.mark.parametrize(
    ("provider", "setting"), [("github", "fetch-depth: 0"), ("gitlab", "GIT_DEPTH: 0")]
)
def test_a_shallow_checkout_that_cannot_be_deepened_stops_naming_the_setting(
    remote: Remote,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    provider: str,
    setting: str,
) -> None:
    before = git(remote.dev, "rev-parse", "HEAD").strip()
    _, after = leak_and_delete(remote, seed=9)
    remote.push("origin", "HEAD:main")
    ci = remote.checkout(after, "--depth", "1")
    git(ci, "remote", "set-url", "origin", str(remote.tmp / "gone.git"))
    if provider == "github":
        env = github(remote.tmp, "push", {"before": before, "after": after})
    else:
        env = gitlab(before, after)
    code, out, err = run_ci(monkeypatch, capsys, ci, env)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and setting in err and "shallow" in err


def test_an_unknown_provider_is_exit_2_pointing_at_git_range(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_ci(monkeypatch, capsys, remote.dev, {})
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "--git RANGE" in err


def test_a_github_event_that_brings_no_commits_is_exit_2(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = github(remote.tmp, "schedule", {})
    code, _, err = run_ci(monkeypatch, capsys, remote.dev, env)
    assert code == 2 and "'schedule'" in err and "--history or --git RANGE" in err


def test_jenkins_scans_from_the_previous_successful_build(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = git(remote.dev, "rev-parse", "HEAD").strip()
    added, head = leak_and_delete(remote, seed=10)
    remote.push("origin", "HEAD:main")
    env = {
        "JENKINS_URL": "http://ci/",
        "GIT_COMMIT": head,
        "GIT_BRANCH": "origin/main",
        "GIT_PREVIOUS_SUCCESSFUL_COMMIT": previous,
    }
    code, out, _ = run_ci(monkeypatch, capsys, remote.checkout(head), env)
    assert (code, [f["commit"] for f in json.loads(out)["findings"]]) == (1, [added])


def test_a_deleted_branch_brings_nothing_to_scan(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    head = git(remote.dev, "rev-parse", "HEAD").strip()
    code, out, _ = run_ci(monkeypatch, capsys, remote.dev, gitlab(head, ZEROS), fmt="text")
    assert code == 0 and out.startswith("Scanned no commits (GitLab push to main: ")


def test_the_gate_as_a_real_process(remote: Remote) -> None:
    """The installed CLI in a subprocess, with the provider's variables in its environment."""
    before = git(remote.dev, "rev-parse", "HEAD").strip()
    _, after = leak_and_delete(remote, seed=11)
    remote.push("origin", "HEAD:main")
    ci = remote.checkout(after)
    env = dict(os.environ, **gitlab(before, after), PYTHONPATH=str(CHECKOUT))
    proc = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", "--ci"],
        cwd=ci,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith(
        f"Scanned commits {before[:7]}..{after[:7]} (GitLab push to main)."
    )


def test_an_unreadable_github_event_is_one_line_and_exit_2(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = dict(github(remote.tmp, "push", {}), GITHUB_EVENT_PATH=str(remote.tmp / "none.json"))
    code, out, err = run_ci(monkeypatch, capsys, remote.dev, env)
    assert (code, out, len(err.splitlines())) == (2, "", 1)
    assert "none.json: cannot read the GitHub event" in err
    (remote.tmp / "bad.json").write_text("{not json")
    code, _, err = run_ci(
        monkeypatch, capsys, remote.dev, dict(env, GITHUB_EVENT_PATH=str(remote.tmp / "bad.json"))
    )
    assert code == 2 and "is not JSON" in err and "Traceback" not in err


def test_a_github_pull_request_checked_out_as_its_merge_ref_at_depth_1(
    remote: Remote, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What actions/checkout does by default for a pull request: one commit, the merge of the
    pull request's head into its base, fetched from ``refs/pull/N/merge``."""
    base = git(remote.dev, "rev-parse", "HEAD").strip()
    git(remote.dev, "checkout", "-q", "-b", "feature")
    added, head = leak_and_delete(remote, seed=13)
    remote.push("origin", "feature")
    git(remote.dev, "checkout", "-q", "--detach", base)
    git(remote.dev, "merge", "-q", "--no-ff", "-m", "Merge feature", head)
    remote.push("origin", "HEAD:refs/pull/7/merge")
    ci = remote.tmp / "ci-merge"
    git(remote.tmp, "init", "-q", str(ci))
    git(ci, "remote", "add", "origin", remote.url)
    git(ci, "fetch", "-q", "--depth=1", "origin", "+refs/pull/7/merge:refs/remotes/pull/7/merge")
    git(ci, "checkout", "-q", "--detach", "refs/remotes/pull/7/merge")
    env = pull_request_env(remote.tmp, "github", base, head)
    code, out, _ = run_ci(monkeypatch, capsys, ci, env)
    report = json.loads(out)
    assert (code, [f["commit"] for f in report["findings"]], report["errors"]) == (1, [added], [])
