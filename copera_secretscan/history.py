"""Whole-history and range scans: each reachable blob once, then provenance for the few that leak.

Peers walk ``git log -p``, re-reading every file for every commit that touches it and paying for
diffs. Here one ``rev-list --objects | cat-file --batch`` pipe delivers each unique blob and
each commit message once, so cost grows with unique blob bytes. Only blobs that held a token
are then looked up in ``git log --raw`` (tree diffs, no content) to find the oldest commit that
wrote the token at each path, its author and date, and whether HEAD still has it.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Dict, List, Optional, Sequence, Tuple

from . import git, scanner
from .config import Settings
from .errors import FatalError
from .gitsources import Message, ObjectScan, read_header, scan_blob, scan_object_stream, skip_object
from .models import Finding, History, Origin, ScanResult
from .rules import Ruleset
from .scanner import Progress
from .sources import printable

Key = Tuple[str, str, Optional[str]]  # (rule_id, token, path): reported once in history


def history_revs(cwd: Optional[str] = None) -> List[str]:
    """Everything reachable from a ref (branches, tags, remotes, notes, the stash), plus every
    older stash entry, which only ``refs/stash``'s reflog still points at."""
    return ["--all", *git.stash_commits(cwd)]


def range_revs(rev_range: str) -> List[str]:
    """``A..B``, ``A...B`` or a single revision, passed to git as they are, but never as an
    option: a range that starts with ``-`` would change what git does, not what it reads."""
    if not rev_range.strip() or rev_range.startswith("-"):
        raise FatalError(f"not a revision range: {rev_range!r}")
    return [rev_range]


def scan_revs(
    revs: Sequence[str],
    settings: Settings,
    progress: Optional[Progress] = None,
    found: Tuple[int, ...] = (),
) -> ScanResult:
    """Scan what ``rev-list revs`` reaches and report each (token, path) at its first commit."""
    started = time.perf_counter()
    found = found or git.require_version()
    ruleset = settings.ruleset()
    cwd = os.getcwd()
    scan = ObjectScan()
    for filters in git.object_passes(found):
        with git.object_stream(revs, filters, cwd) as stream:
            scan_object_stream(stream, ruleset, progress, scan)
    findings = blob_provenance(scan, revs, ruleset, cwd) + message_provenance(scan.messages)
    elapsed = time.perf_counter() - started
    return scanner.finish(findings, scan.problems, settings, scan.files, scan.bytes, elapsed)


def scan_history(
    settings: Settings, rev_range: Optional[str] = None, progress: Optional[Progress] = None
) -> ScanResult:
    """``scan --history`` (every ref) or ``scan --git RANGE``."""
    found = git.require_version()  # before any other git call, so an old git gets one clear line
    revs = range_revs(rev_range) if rev_range else history_revs()
    return scan_revs(revs, settings, progress, found)


def blob_provenance(
    scan: ObjectScan, revs: Sequence[str], ruleset: Ruleset, cwd: Optional[str]
) -> List[Finding]:
    """One finding per (rule, token, path), placed at the oldest commit that wrote it there."""
    if not scan.blobs:
        return []
    groups: Dict[Key, List[Tuple[int, git.Change, Finding]]] = {}
    seen = set()
    for order, change in enumerate(git.changes(revs, scan.blobs, cwd)):
        seen.add(change.blob)
        for finding in scan.blobs[change.blob]:
            key = (finding.rule_id, finding.secret, change.path)
            groups.setdefault(key, []).append((order, change, finding))
    at_head = head_tokens({key[2] for key in groups}, ruleset, cwd)
    results = [_first(key, group, at_head) for key, group in groups.items()]
    # a blob no commit wrote (a tag pointing straight at a blob or tree): report it as found
    for blob in scan.blobs.keys() - seen:
        results.extend(scan.blobs[blob])
    return results


def _first(
    key: Key, group: List[Tuple[int, git.Change, Finding]], at_head: Dict[str, set]
) -> Finding:
    _, change, finding = min(group, key=lambda item: item[0])
    commits = len({item[1].commit for item in group})
    present = key[1] in at_head.get(change.path, set())
    history = History(change.author, change.date, commits, present)
    return replace(finding, origin=Origin(printable(change.path), change.commit), history=history)


def head_tokens(paths: set, ruleset: Ruleset, cwd: Optional[str]) -> Dict[str, set]:
    """The tokens each of ``paths`` holds at HEAD (read again: a range may not include HEAD)."""
    ordered = sorted(paths)
    tokens: Dict[str, set] = {}
    with git.cat_objects([f"HEAD:{path}" for path in ordered], cwd) as stream:
        for path in ordered:
            header = read_header(stream)
            if header is None or header.kind != "blob":
                skip_object(stream, header)  # gone at HEAD, now a directory, or no HEAD at all
                continue
            found = scan_blob(stream, header.size, Origin(path), ruleset)
            tokens[path] = {finding.secret for finding in found}
    return tokens


def message_provenance(messages: List[Tuple[Message, Finding]]) -> List[Finding]:
    """One finding per token in messages, at the oldest commit (or tag) that carries it."""
    groups: Dict[Tuple[str, str], List[Tuple[Message, Finding]]] = {}
    for message, finding in messages:
        groups.setdefault((finding.rule_id, finding.secret), []).append((message, finding))
    results = []
    for group in groups.values():
        message, finding = min(group, key=lambda item: (item[0].time, item[0].commit))
        commits = len({item[0].commit for item in group})
        history = History(message.author, message.date, commits, None)
        results.append(replace(finding, history=history))
    return results
