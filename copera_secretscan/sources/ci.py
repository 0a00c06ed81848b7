"""``scan --ci``: the commits this CI pipeline brings, read from the provider's variables.

A CI gate that scans the final tree passes a branch where one commit adds a token and the next
deletes it, though the token is public in the pushed history (issue 12). So the gate scans
commits, as ``--git`` does: each provider's variables (and GitHub's event payload) say where
the new commits start. Where they name no start (a new branch, a provider without a "before"
commit) or a start this repository lacks (a force-push), the gate scans every commit no
*other* remote branch has: in CI the pushed branch's own remote-tracking ref holds the new
commits, so it is left out. A shallow checkout that lacks part of the range is deepened from
the remote, or the run stops naming the setting to change: never a pass on less than the range.
"""

from __future__ import annotations

import contextlib
import json
from typing import Callable, List, Mapping, NamedTuple, Optional, Tuple

from ..errors import FatalError
from . import git
from .pushes import is_zero, unpushed

REMOTE = "origin"  # the name every provider's checkout gives its remote
USE_RANGE = "use --history or --git RANGE"


class Plan(NamedTuple):
    """What a provider's variables say, before git is asked anything."""

    provider: str  # "GitHub", "GitLab", ...
    event: str  # "push to main", "pull request #3"
    head: str  # the commit the pipeline runs on (zeros: a deleted branch)
    base: str = ""  # where the new commits start: a commit or remote branch ("", zeros: none)
    branch: str = ""  # the branch pushed; its own remote-tracking ref is no "other" branch
    depth: str = ""  # the setting that gives the checkout all of history
    fetch: Tuple[str, ...] = ()  # remote branches the plan needs, fetched when missing


class Range(NamedTuple):
    """The revisions to scan and, for the report, what they cover and why."""

    revs: List[str]
    why: str


def plan_for(env: Mapping[str, str]) -> Plan:
    """The plan of the first provider whose marker variable is set; unknown: exit 2."""
    for marker, plan in PROVIDERS:
        if env.get(marker, "").strip().lower() not in ("", "false", "0"):
            return plan(env)
    raise FatalError(
        "scan --ci: no known CI provider in the environment (GitHub Actions, GitLab CI, "
        "Azure Pipelines, Bitbucket Pipelines, Jenkins); use --git RANGE"
    )


def github(env: Mapping[str, str]) -> Plan:
    """push: the payload's ``before..after``; pull request: ``base.sha..head.sha``; merge
    queue: ``base_sha..head_sha``."""
    event, payload = env.get("GITHUB_EVENT_NAME", ""), _payload(env)
    depth = "fetch-depth: 0 on actions/checkout"
    if event == "push":
        branch = env.get("GITHUB_REF_NAME", "")
        after = _text(payload.get("after")) or env.get("GITHUB_SHA", "")
        before = _text(payload.get("before"))
        return Plan("GitHub", f"push to {branch}", after, before, branch, depth)
    if event in ("pull_request", "pull_request_target"):
        pull = payload.get("pull_request")
        pull = pull if isinstance(pull, dict) else {}
        head, base = _sha(pull, "head"), _sha(pull, "base")
        number = _text(pull.get("number")) or "?"
        source = env.get("GITHUB_HEAD_REF", "")
        return Plan("GitHub", f"pull request #{number}", head, base, source, depth)
    if event == "merge_group":  # a merge queue: the group's commits on top of its base
        group = payload.get("merge_group")
        group = group if isinstance(group, dict) else {}
        head, base = _text(group.get("head_sha")), _text(group.get("base_sha"))
        ref = _text(group.get("head_ref")) or env.get("GITHUB_REF_NAME", "")
        return Plan("GitHub", f"merge queue {ref}", head, base, "", depth)
    raise FatalError(f"scan --ci: the GitHub event {event!r} brings no new commits; {USE_RANGE}")


def _payload(env: Mapping[str, str]) -> dict:
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        raise FatalError("scan --ci: GITHUB_EVENT_PATH is not set; it names the event payload")
    try:
        with open(path, "rb") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise FatalError(f"{path}: cannot read the GitHub event: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise FatalError(f"{path}: the GitHub event is not JSON: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _sha(pull: dict, side: str) -> str:
    ref = pull.get(side)
    return _text(ref.get("sha")) if isinstance(ref, dict) else ""


def _text(value: object) -> str:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def gitlab(env: Mapping[str, str]) -> Plan:
    """merge request: ``DIFF_BASE_SHA..COMMIT_SHA``; push: ``BEFORE_SHA..COMMIT_SHA``."""
    head, depth = env.get("CI_COMMIT_SHA", ""), "GIT_DEPTH: 0 in the job's variables"
    default = env.get("CI_DEFAULT_BRANCH", "")
    base = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA", "")
    if base:
        event = f"merge request !{env.get('CI_MERGE_REQUEST_IID', '?')}"
        source = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "")
        return Plan("GitLab", event, head, base, source, depth)
    if env.get("CI_PIPELINE_SOURCE") == "schedule":
        raise FatalError(
            f"scan --ci: a scheduled GitLab pipeline brings no new commits; {USE_RANGE}"
        )
    branch = env.get("CI_COMMIT_BRANCH") or env.get("CI_COMMIT_REF_NAME", "")
    before = env.get("CI_COMMIT_BEFORE_SHA", "")
    fetch = (default,) if default and default != branch else ()
    return Plan("GitLab", f"push to {branch}", head, before, branch, depth, fetch)


def azure(env: Mapping[str, str]) -> Plan:
    """pull request: ``origin/<target>..SOURCEVERSION``; a push names no earlier commit."""
    head, depth = env.get("BUILD_SOURCEVERSION", ""), "fetchDepth: 0 on the checkout step"
    target = _branch(env.get("SYSTEM_PULLREQUEST_TARGETBRANCH", ""))
    if env.get("BUILD_REASON") == "PullRequest" and target:
        number = env.get("SYSTEM_PULLREQUEST_PULLREQUESTNUMBER") or env.get(
            "SYSTEM_PULLREQUEST_PULLREQUESTID", "?"
        )
        source = _branch(env.get("SYSTEM_PULLREQUEST_SOURCEBRANCH", ""))
        base = f"{REMOTE}/{target}"
        return Plan(
            "Azure Pipelines", f"pull request {number}", head, base, source, depth, (target,)
        )
    if env.get("BUILD_REASON") == "Schedule":
        raise FatalError(
            f"scan --ci: a scheduled Azure pipeline brings no new commits; {USE_RANGE}"
        )
    branch = _branch(env.get("BUILD_SOURCEBRANCH", ""))
    return Plan("Azure Pipelines", f"build of {branch}", head, "", branch, depth)


def bitbucket(env: Mapping[str, str]) -> Plan:
    """pull request: ``origin/<destination>..COMMIT``; a push names no earlier commit."""
    head, depth = env.get("BITBUCKET_COMMIT", ""), "clone: depth: full in bitbucket-pipelines.yml"
    branch, target = env.get("BITBUCKET_BRANCH", ""), env.get("BITBUCKET_PR_DESTINATION_BRANCH", "")
    if target:
        event = f"pull request #{env.get('BITBUCKET_PR_ID', '?')}"
        return Plan("Bitbucket", event, head, f"{REMOTE}/{target}", branch, depth, (target,))
    return Plan("Bitbucket", f"build of {branch}", head, "", branch, depth)


def jenkins(env: Mapping[str, str]) -> Plan:
    """change request: ``origin/<CHANGE_TARGET>..GIT_COMMIT``; else the git plugin's
    ``GIT_PREVIOUS_SUCCESSFUL_COMMIT..GIT_COMMIT``."""
    head, depth = env.get("GIT_COMMIT", ""), "no shallow clone in the job's git clone options"
    branch = _branch(env.get("BRANCH_NAME") or env.get("GIT_BRANCH", ""))
    target = env.get("CHANGE_TARGET", "")
    if target:
        source = env.get("CHANGE_BRANCH", branch)
        event = f"change request {env.get('CHANGE_ID', '?')}"
        return Plan("Jenkins", event, head, f"{REMOTE}/{target}", source, depth, (target,))
    before = env.get("GIT_PREVIOUS_SUCCESSFUL_COMMIT", "")
    return Plan("Jenkins", f"build of {branch}", head, before, branch, depth)


def _branch(ref: str) -> str:
    """A branch name from the spellings providers use (``refs/heads/x``, ``origin/x``)."""
    for prefix in ("refs/heads/", f"{REMOTE}/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


# (marker variable, plan): the first provider whose marker is set wins
PROVIDERS: Tuple[Tuple[str, Callable[[Mapping[str, str]], Plan]], ...] = (
    ("GITHUB_ACTIONS", github),
    ("GITLAB_CI", gitlab),
    ("TF_BUILD", azure),
    ("BITBUCKET_BUILD_NUMBER", bitbucket),
    ("JENKINS_URL", jenkins),
)


def ci_range(env: Mapping[str, str], cwd: str) -> Range:
    """What to scan for the pipeline ``env`` describes, in the checkout at ``cwd``.

    A shallow checkout that lacks a commit of the plan, or whose range runs into its boundary,
    is deepened once (``fetch --unshallow``) and the plan is read again; the pipeline's scan
    still reports any boundary it meets (exit 2), so less than the range never passes.
    """
    plan = plan_for(env)
    if is_zero(plan.head):
        return Range([], f"no commits ({plan.provider} {plan.event}: the branch was deleted)")
    for branch in plan.fetch:
        _fetch_if_missing(branch, cwd)
    shallow = bool(git.shallow_commits(cwd))

    def exists(rev: str) -> bool:
        return git.commit_exists(rev, cwd)

    chosen = choose(plan, exists, cwd, final=not shallow)
    if shallow and (chosen is None or _reaches_boundary(chosen.revs, cwd)):
        _deepen(plan, cwd)
        chosen = choose(plan, exists, cwd, final=True)
    assert chosen is not None, "a final choice is a range or an error"
    return chosen


def choose(plan: Plan, exists: Callable[[str], bool], cwd: str, final: bool) -> Optional[Range]:
    """The range the plan names, or the commits no other remote branch has when it names no
    start or one this repository lacks. A lacking commit before ``final``: None (deepen first)."""
    label = f"{plan.provider} {plan.event}"
    head = git.revision(plan.head, f"commit from {plan.provider}'s variables")
    if not exists(head):
        if not final:
            return None
        raise FatalError(f"scan --ci: {label}: commit {head} is not in this repository")
    if plan.base and not is_zero(plan.base):
        base = git.revision(plan.base, f"base from {plan.provider}'s variables")
        if exists(base):
            return Range([head, "--not", base], f"commits {_short(base)}..{_short(head)} ({label})")
        if not final:
            return None
        return _fallback(plan, head, cwd, f"{label}: its base {_short(base)} is not here")
    reason = "a new branch" if plan.base else "no earlier commit named"
    return _fallback(plan, head, cwd, f"{label}: {reason}")


def _fallback(plan: Plan, head: str, cwd: str, reason: str) -> Range:
    own = f"{REMOTE}/{plan.branch}" if plan.branch else ""
    revs = unpushed(head, REMOTE, own)
    count = len(git.rev_list(revs, cwd))
    commits = f"{count} commit{'s' if count != 1 else ''}"
    return Range(
        revs,
        f"the {commits} of {plan.branch or _short(head)} not on another remote branch ({reason})",
    )


def _short(sha: str) -> str:
    return sha[:7] if all(c in "0123456789abcdef" for c in sha) else sha


def _reaches_boundary(revs: List[str], cwd: str) -> bool:
    """Whether rev-list meets a commit whose parents a shallow clone lacks."""
    return bool(set(git.rev_list(revs, cwd)) & git.shallow_commits(cwd))


def _deepen(plan: Plan, cwd: str) -> None:
    try:
        git.unshallow(REMOTE, cwd)
    except FatalError as exc:
        raise FatalError(
            f"scan --ci: this shallow clone lacks commits of the {plan.provider} {plan.event} "
            f"and fetching them failed ({exc}); set {plan.depth}"
        ) from exc


def _fetch_if_missing(branch: str, cwd: str) -> None:
    """A branch the plan measures from, fetched when the checkout left it out (GitLab and
    Bitbucket fetch only the branch built); if that fails, the fallback scans more, not less."""
    ref = f"refs/remotes/{REMOTE}/{git.revision(branch, 'branch')}"
    if git.commit_exists(ref, cwd):
        return
    with contextlib.suppress(FatalError):
        git.fetch_branch(REMOTE, branch, cwd)
