"""``scan --pre-push``: what a push is about to send, as revisions for the history scan.

pre-commit reads git's pre-push lines itself and hands hooks ``PRE_COMMIT_FROM_REF`` (the
remote's old tip) and ``PRE_COMMIT_TO_REF`` (the local tip); for a new branch whose history
starts at a root commit it sets neither and only names the local ref. A raw
``.git/hooks/pre-push`` gets git's own lines on stdin instead:
``<local ref> <local sha> <remote ref> <remote sha>``. A new branch (remote sha all zeros, or
unknown here) sends every commit no remote-tracking ref has; a deleted branch sends nothing.
"""

from __future__ import annotations

import os
import sys
from typing import IO, List, Mapping, Optional, Tuple

from ..errors import FatalError
from . import git


def is_zero(sha: str) -> bool:
    """git's "no object" id (40 zeros, or 64 in a SHA-256 repository)."""
    return bool(sha) and set(sha) == {"0"}


def unpushed(tip: str, remote: str = "", own: str = "") -> List[str]:
    """``tip`` and what it reaches that no remote-tracking ref has (of ``remote`` alone, when
    named), ``own`` (``origin/<branch>``) and its alias ``origin/HEAD`` left out: in CI the
    branch being checked is on the remote already, and counting it as "pushed" would leave
    nothing to scan."""
    # git matches --exclude against what --remotes lists: "origin/x", not "refs/remotes/origin/x";
    # a clone's "origin/HEAD" names the default branch again, which may be ``own``
    exclude = [f"--exclude={own}", f"--exclude={own.split('/')[0]}/HEAD"] if own else []
    return [tip, "--not", *exclude, f"--remotes={remote}" if remote else "--remotes"]


def revs_from_env(env: Mapping[str, str]) -> Optional[List[str]]:
    """Revisions from pre-commit's variables; None when pre-commit did not set them."""
    to_ref, from_ref = env.get("PRE_COMMIT_TO_REF"), env.get("PRE_COMMIT_FROM_REF")
    if to_ref:
        if is_zero(to_ref):
            return []
        if not from_ref or is_zero(from_ref) or not git.commit_exists(from_ref):
            return unpushed(git.revision(to_ref))
        return [git.revision(to_ref), "--not", git.revision(from_ref)]
    local = env.get("PRE_COMMIT_LOCAL_BRANCH")
    if local and env.get("PRE_COMMIT_REMOTE_NAME"):
        return unpushed(git.revision(local))  # a new branch that starts at a root commit
    return None


def revs_from_lines(lines: List[str]) -> List[str]:
    """Revisions for git's pre-push stdin: every local tip, minus what the remote already has."""
    tips: List[str] = []
    known: List[str] = []
    new_branch = False
    for local_sha, remote_sha in _pairs(lines):
        if is_zero(local_sha):
            continue  # deleting a remote branch sends no objects
        tips.append(git.revision(local_sha))
        if is_zero(remote_sha) or not git.commit_exists(remote_sha):
            new_branch = True
        else:
            known.append(git.revision(remote_sha))
    if not tips:
        return []
    return [*tips, "--not", *known, *(["--remotes"] if new_branch else [])]


def _pairs(lines: List[str]) -> List[Tuple[str, str]]:
    pairs = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise FatalError(f"unexpected pre-push input line: {line.strip()!r}")
        pairs.append((parts[1], parts[3]))
    return pairs


def push_revs(
    env: Optional[Mapping[str, str]] = None, stdin: Optional[IO[str]] = None
) -> List[str]:
    """The revisions a push sends: from pre-commit's variables, else git's lines on stdin;
    empty when it sends nothing (a deleted branch)."""
    revs = revs_from_env(os.environ if env is None else env)
    return revs_from_lines(_git_lines(stdin)) if revs is None else revs


def _git_lines(stdin: Optional[IO[str]]) -> List[str]:
    """git's pre-push lines; on a terminal there are none, and passing would be vacuous."""
    stream = stdin if stdin is not None else sys.stdin
    if stream is None or stream.isatty():
        raise FatalError(
            "--pre-push reads git's pre-push lines on stdin or pre-commit's PRE_COMMIT_TO_REF;"
            " to scan commits by hand use --git RANGE"
        )
    return stream.read().splitlines()
