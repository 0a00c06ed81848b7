"""The baseline: tokens a team has already seen, so the hook blocks only new ones.

What users of other scanners taught us: entries keyed by line number
break when code moves and once hid a *different* secret put on the same line; timestamps and
line numbers make the file churn in every diff; plaintext secrets in it are a second leak. So an
entry is an HMAC-SHA256 of (rule, path, token) keyed by a random salt kept in the file, plus the
redacted token for humans. No line numbers: an entry survives the line moving and edits
elsewhere in the file, while the same token pasted into another file is a new finding. The file
is written with sorted keys and entries, so re-running on an unchanged tree changes no byte.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, replace
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple

from ..config.locate import BASELINE_FILE
from ..models import BUILTIN_PREFIXES, Finding, mask_tokens

VERSION = 1
DEFAULT_FILE = BASELINE_FILE
LEAK = "leak"  # a real leak, being rotated
FALSE_POSITIVE = "false-positive"
DECISIONS = (LEAK, FALSE_POSITIVE)


@dataclass(frozen=True)
class Entry:
    digest: str  # HMAC-SHA256(salt, rule_id NUL path NUL token), hex
    rule_id: str
    path: str  # posix, relative to the repository root ("" for a commit message)
    redacted: str
    decision: Optional[str] = None  # one of DECISIONS, from `baseline audit`
    reason: Optional[str] = None
    expires: Optional[str] = None  # YYYY-MM-DD: the last day the entry suppresses its finding

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and datetime.date.fromisoformat(self.expires) < today

    def sort_key(self) -> Tuple[str, str, str, str]:
        return (self.path, self.rule_id, self.redacted, self.digest)


@dataclass(frozen=True)
class Baseline:
    salt: str  # hex; generated once by `baseline create`, kept by every later write
    entries: Tuple[Entry, ...] = ()

    def digest(self, rule_id: str, path: str, secret: str) -> str:
        material = "\0".join((rule_id, path, secret)).encode("utf-8", "surrogateescape")
        return hmac.new(bytes.fromhex(self.salt), material, hashlib.sha256).hexdigest()

    def by_digest(self) -> Dict[str, Entry]:
        return {entry.digest: entry for entry in self.entries}


@dataclass(frozen=True)
class Scope:
    """What a run looked at, so only entries it could have seen are judged stale.

    A hook run on three files must not call every other entry stale: an entry is in scope when
    its path is one of the files named, or under one of the directories walked.
    """

    files: FrozenSet[str] = frozenset()
    dirs: Tuple[str, ...] = ()  # "" is the whole repository

    def covers(self, path: str) -> bool:
        return path in self.files or any(
            d == "" or path == d or path.startswith(d + "/") for d in self.dirs
        )


def relative(path: str, root: str) -> str:
    """``path`` (relative to the working directory) as posix relative to ``root``."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    if rel.split(os.sep, 1)[0] == os.pardir:
        return absolute.replace(os.sep, "/")
    return "" if rel == os.curdir else rel.replace(os.sep, "/")


def entry_path(finding: Finding) -> str:
    """The path a finding is keyed by: from its repository root, whatever the working directory
    ("" for a commit message)."""
    return finding.root_path or ""


def entry_paths(finding: Finding, root: str) -> Tuple[str, ...]:
    """The key first, then the one 0.1 wrote for a file shown by another path: relative to the
    baseline's ``root``. Inside that repository both are the same; outside git (where 0.1 keyed
    on the working directory) or in another repository, the old entry still matches."""
    path = entry_path(finding)
    if finding.origin.rooted is None or finding.path is None:
        return (path,)
    old = relative(finding.path, root)
    return (path,) if old == path else (path, old)


def known_entry(
    baseline: Baseline, known: Dict[str, Entry], finding: Finding, root: str
) -> Optional[Entry]:
    """The entry that accepts ``finding``, under its key or the one 0.1 wrote."""
    for path in entry_paths(finding, root):
        entry = known.get(baseline.digest(finding.rule_id, path, finding.secret))
        if entry is not None:
            return entry
    return None


def shown_path(path: str, prefix: str) -> str:
    """The path an entry records: a baseline is committed, so a token in a file name is stored
    redacted (the hash keys on the real path)."""
    return mask_tokens(path, (prefix, *BUILTIN_PREFIXES))


def scope_of(paths: Sequence[str], root: str) -> Scope:
    named = [p for p in paths if p != "-"]
    dirs = tuple(relative(p, root) for p in named if os.path.isdir(p))
    files = frozenset(relative(p, root) for p in named if not os.path.isdir(p))
    return Scope(files, dirs)


def new_salt() -> str:
    return secrets.token_hex(32)


def merged(
    old: Optional[Baseline], findings: Iterable[Finding], root: str, scope: Optional[Scope]
) -> Baseline:
    """A baseline of ``findings`` that keeps ``old``'s salt and audit decisions.

    With a ``scope`` (``baseline update``), entries of ``old`` outside what was scanned are kept
    as they are; without one (``baseline create``), the new file holds only what was found.
    """
    base = old or Baseline(new_salt())
    known = base.by_digest()
    entries: Dict[str, Entry] = {}
    for finding in findings:
        path = entry_path(finding)
        digest = base.digest(finding.rule_id, path, finding.secret)
        shown = shown_path(path, finding.prefix)
        seen = known_entry(base, known, finding, root)  # an old key is rewritten, decision kept
        new = Entry(digest, finding.rule_id, shown, finding.redacted)
        entries[digest] = new if seen is None else replace(seen, digest=digest, path=shown)
    if scope is not None:
        for entry in base.entries:
            if not scope.covers(entry.path):
                entries.setdefault(entry.digest, entry)
    return Baseline(base.salt, tuple(sorted(entries.values(), key=Entry.sort_key)))


def with_decision(
    baseline: Baseline, digest: str, decision: Optional[str], reason: Optional[str]
) -> Baseline:
    entries = tuple(
        replace(e, decision=decision, reason=reason or None) if e.digest == digest else e
        for e in baseline.entries
    )
    return replace(baseline, entries=entries)


@dataclass(frozen=True)
class Applied:
    kept: Tuple[Finding, ...]
    suppressed: int
    warnings: Tuple[str, ...]


def apply(
    baseline: Baseline,
    findings: Iterable[Finding],
    root: str,
    scope: Optional[Scope] = None,
    unread: Iterable[Optional[str]] = (),
    today: Optional[datetime.date] = None,
) -> Applied:
    """Drop findings the baseline accepts; expired entries report again, stale ones warn."""
    today = today or datetime.date.today()
    findings = list(findings)
    known = baseline.by_digest()
    kept: List[Finding] = []
    seen: Set[str] = set()
    expired: Dict[str, Entry] = {}
    for finding in findings:
        entry = known_entry(baseline, known, finding, root)
        if entry is None:
            kept.append(finding)
            continue
        seen.add(entry.digest)
        if entry.expired(today):
            kept.append(finding)
            expired[entry.digest] = entry
    warnings = [expired_warning(e) for e in sorted(expired.values(), key=Entry.sort_key)]
    skip = frozenset(relative(p, root) for p in unread if p)
    warnings += [stale_warning(e) for e in stale(baseline, seen, scope, skip)]
    return Applied(tuple(kept), len(findings) - len(kept), tuple(warnings))


def stale(
    baseline: Baseline, seen: Set[str], scope: Optional[Scope], skip: FrozenSet[str] = frozenset()
) -> List[Entry]:
    """Entries this run could have found but did not."""
    if scope is None:
        return []
    return [
        e
        for e in baseline.entries
        if e.digest not in seen and e.path not in skip and scope.covers(e.path)
    ]


def expired_warning(entry: Entry) -> str:
    why = f" ({entry.reason})" if entry.reason else ""
    return (
        f"baseline entry for {entry.redacted} in {entry.path or 'a commit message'} expired on "
        f"{entry.expires}{why}: reported again; rotate the token or extend 'expires'"
    )


def stale_warning(entry: Entry) -> str:
    return (
        f"stale baseline entry: {entry.redacted} ({entry.rule_id}) in {entry.path} is no longer "
        f"found; 'copera-secretscan baseline update' drops it"
    )
