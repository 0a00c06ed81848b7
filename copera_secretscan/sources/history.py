"""Whole-history and range scans: each reachable blob once, then provenance for the few that leak.

The pipeline scans (``object_items`` of objects.py, then the HEAD copies of :func:`head_inputs`);
the functions here take its findings and place them at the commit that introduced them.

Peers walk ``git log -p``, re-reading every file for every commit that touches it and paying for
diffs. Here one ``rev-list --objects | cat-file --batch`` pipe delivers each unique blob, tree
and commit message once, so cost grows with unique object bytes, and an object git cannot read
is an error, never a gap. Only blobs that held a token are then looked up in ``git log --raw``
(tree diffs, no content) to find the oldest commit that wrote the token at each path, its
author and date, and whether HEAD still has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

from ..errors import FatalError
from ..models import Finding, History, Input, Origin, Problem, printable
from . import git, gitobjects
from .objects import Message, cat_inputs, salvage

Key = Tuple[str, str, str]  # (rule_id, token, path): reported once in history
Carriers = Dict[Tuple[str, str], Set[str]]  # (rule_id, token) -> every commit or tag holding it
Groups = Dict[Key, List[Tuple[int, gitobjects.Change, Finding]]]
AtHead = Optional[Dict[str, Set[str]]]  # path -> the tokens it holds at HEAD; None: unknown


@dataclass
class ObjectScan:
    """What the pipeline's pass over the objects found, before provenance is resolved."""

    blobs: Dict[str, List[Finding]] = field(default_factory=dict)  # blob id -> its findings
    # blob id -> the path its findings were made under: an archive's member findings are at
    # ``that!member`` (the pipeline's unpack.py), and keep their ``!member`` when placed
    scanned_as: Dict[str, Optional[str]] = field(default_factory=dict)
    messages: List[Tuple[Message, Finding]] = field(default_factory=list)
    names: List[Finding] = field(default_factory=list)  # tokens in tree entries
    problems: List[Problem] = field(default_factory=list)


def history_revs(cwd: Optional[str] = None) -> List[str]:
    """Everything reachable from a ref (branches, tags, remotes, notes, the stash), plus every
    older stash entry, which only ``refs/stash``'s reflog still points at."""
    return ["--all", *git.stash_commits(cwd)]


def range_revs(rev_range: str) -> List[str]:
    """``A..B``, ``A...B`` or a single revision, passed to git as they are."""
    return [git.revision(rev_range, "revision range")]


def blob_changes(
    scan: ObjectScan, revs: Sequence[str], cwd: Optional[str], carriers: Carriers, groups: Groups
) -> None:
    """Every commit that wrote a blob holding a token, into ``groups`` by (rule, token, path),
    oldest first (raises FatalError when git fails; what was read so far stays)."""
    if not scan.blobs:
        return
    for order, change in enumerate(gitobjects.changes(revs, scan.blobs, cwd)):
        for finding in scan.blobs[change.blob]:
            key = (finding.rule_id, finding.secret, change.path)
            groups.setdefault(key, []).append((order, change, finding))
            carriers.setdefault(key[:2], set()).add(change.commit)


def blob_provenance(scan: ObjectScan, groups: Groups, at_head: AtHead) -> List[Finding]:
    """One finding per (rule, token, path), placed at the oldest commit that wrote it there."""
    results = [_first(key, group, at_head, scan.scanned_as) for key, group in groups.items()]
    # a blob no commit wrote (a tag pointing straight at a blob or tree): report it as found
    seen = {change.blob for group in groups.values() for _, change, _ in group}
    for blob in scan.blobs.keys() - seen:
        results.extend(scan.blobs[blob])
    return results


def _first(
    key: Key,
    group: List[Tuple[int, gitobjects.Change, Finding]],
    at_head: AtHead,
    scanned_as: Dict[str, Optional[str]],
) -> Finding:
    _, change, finding = min(group, key=lambda item: item[0])
    commits = len({item[1].commit for item in group})
    present = None if at_head is None else key[1] in at_head.get(change.path, set())
    history = History(change.author, change.date, commits, present)
    path = printable(change.path) + _member(finding, scanned_as.get(change.blob))
    return finding._replace(origin=Origin(path, change.commit), history=history)


def _member(finding: Finding, outer: Optional[str]) -> str:
    """``!inner/path`` of a finding in an archive's member, "" for one in the blob itself."""
    path = finding.path or ""
    if outer is None or not path.startswith(outer + "!"):
        return ""
    return path[len(outer) :]


def head_inputs(paths: Set[str], cwd: Optional[str]) -> Iterator[Input]:
    """The HEAD copy of each of ``paths`` that HEAD has (``about``: the path), for the pipeline
    to say which tokens HEAD still holds (read again: a range may not include HEAD).

    A path gone at HEAD, now a directory, or a repository without HEAD yields nothing. A copy
    at HEAD that git cannot read makes the answer unknown, never "gone": FatalError.
    """
    at_head = git.head_blobs(cwd)
    wanted = [(at_head[path], Origin(path), path) for path in sorted(paths) if path in at_head]
    for item in cat_inputs(wanted, _unknown_at_head, cwd):
        assert isinstance(item, Input)
        yield item


def _unknown_at_head(origin: Origin, path: object) -> Problem:
    unknown = "missing or unreadable: whether HEAD still has the token is unknown"
    raise FatalError(f"{printable(str(path))} at HEAD: {unknown}")


def name_provenance(
    scan: ObjectScan, revs: Sequence[str], cwd: Optional[str], carriers: Carriers
) -> List[Finding]:
    """One finding per token in a name (tree entries), at the oldest commit among ``revs`` that
    added or changed the path.

    A tree new in a range lists the unchanged names beside the one that changed, so a name no
    commit of the range touched is not reported: it came in before the range, as an old blob
    would. Rare (one ``git log`` per such path), so plain.
    """
    if not scan.names:
        return []
    try:
        at_head: Optional[Dict[str, str]] = git.head_blobs(cwd)
    except FatalError as exc:  # tokens were found: report them, and say what is unknown
        scan.problems.append(salvage(exc, True))
        at_head = None
    results: List[Finding] = []
    for finding in scan.names:
        try:
            placed = _named_at_first(finding, revs, cwd, at_head, carriers)
        except FatalError as exc:
            scan.problems.append(salvage(exc, True))
            placed = _shown(finding)  # its commit is unknown: reported all the same
        results.extend([placed] if placed is not None else [])
    return results


def _named_at_first(
    finding: Finding,
    revs: Sequence[str],
    cwd: Optional[str],
    at_head: Optional[Dict[str, str]],
    carriers: Carriers,
) -> Optional[Finding]:
    path = finding.path or ""
    changes = gitobjects.path_log(revs, path, cwd)
    if not changes:
        return None
    first = changes[0]
    present = None if at_head is None else _at_head(path, at_head)
    history = History(first.author, first.date, len(changes), present)
    carriers.setdefault((finding.rule_id, finding.secret), set()).update(c.commit for c in changes)
    return _shown(finding)._replace(origin=Origin(printable(path), first.commit), history=history)


def _at_head(path: str, at_head: Dict[str, str]) -> bool:
    """A file at ``path``, or a directory there (any file below it), at HEAD."""
    return path in at_head or any(key.startswith(path + "/") for key in at_head)


def _shown(finding: Finding) -> Finding:
    return finding._replace(origin=Origin(printable(finding.path or ""), finding.commit))


def message_provenance(
    messages: List[Tuple[Message, Finding]], carriers: Carriers
) -> List[Finding]:
    """One finding per token in messages, at the oldest commit (or tag) that carries it."""
    groups: Dict[Tuple[str, str], List[Tuple[Message, Finding]]] = {}
    for message, finding in messages:
        groups.setdefault((finding.rule_id, finding.secret), []).append((message, finding))
        carriers.setdefault((finding.rule_id, finding.secret), set()).add(message.oid)
    results = []
    for group in groups.values():
        message, finding = min(group, key=lambda item: (item[0].time, item[0].commit))
        commits = len({item[0].oid for item in group})
        history = History(message.author, message.date, commits, None, tag=message.tag)
        results.append(finding._replace(history=history))
    return results


MAX_REF_LOOKUPS = 50  # tokens whose refs are looked up: one git call each
MAX_CARRIERS = 200  # commits per lookup: a command line stays short


def with_refs(findings: List[Finding], carriers: Carriers, cwd: Optional[str]) -> List[Finding]:
    """Each history finding with the refs that still reach its token (any commit carrying it),
    so a user knows which branches, tags and stash entries a rewrite must cover.

    Informational: when git cannot answer, the findings stay as they are (refs None).
    """
    keys = dict.fromkeys((f.rule_id, f.secret) for f in findings if f.history is not None)
    try:
        stashes = git.stash_entries(cwd)
        looked = {
            key: _reaching(sorted(carriers.get(key, ()))[:MAX_CARRIERS], stashes, cwd)
            for key in list(keys)[:MAX_REF_LOOKUPS]
        }
    except FatalError:
        return findings
    return [_with(finding, looked.get((finding.rule_id, finding.secret))) for finding in findings]


def _with(finding: Finding, refs: Optional[Tuple[str, ...]]) -> Finding:
    if finding.history is None or refs is None:
        return finding
    return finding._replace(history=finding.history._replace(refs=refs))


def _reaching(commits: List[str], stashes: List[List[str]], cwd: Optional[str]) -> Tuple[str, ...]:
    """Short names of the refs that reach ``commits``; a stash entry counts when it holds one of
    them itself (its own, index or untracked commit), since only ``stash@{0}`` is a ref."""
    if not commits:
        return ()
    names = [_short(ref) for ref in git.refs_containing(commits, cwd)]
    held = set(commits)
    for n, entry in enumerate(stashes):
        own = {entry[0], *entry[2:]}  # the entry, its index and untracked commits: not its base
        name = f"stash@{{{n}}}"
        if held & own and name not in names:
            names.append(name)
    return tuple(names)


def _short(ref: str) -> str:
    """``main``, ``v1.2``, ``origin/main``, ``stash@{0}``: a ref as a person names it."""
    if ref == "refs/stash":
        return "stash@{0}"
    for prefix in ("refs/heads/", "refs/tags/", "refs/remotes/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def spread(finding: Finding, carriers: Carriers) -> Finding:
    """Add how many distinct commits (or tags) carry the token anywhere: one commit that put it
    in two files and its message is one commit to rewrite, not three."""
    if finding.history is None:
        return finding
    spread = len(carriers.get((finding.rule_id, finding.secret), ()))
    return finding._replace(history=finding.history._replace(token_commits=spread))
