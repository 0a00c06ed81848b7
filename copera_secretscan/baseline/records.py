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

from .. import kinds
from ..config.locate import BASELINE_FILE
from ..models import BUILTIN_PREFIXES, Finding, Unrotated, mask_tokens

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
    # YYYY-MM-DD the decision was made (written by audit), so a reminder can say "since when";
    # None in entries audited before it was kept (issue 12)
    decided: Optional[str] = None

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
    baseline: Baseline,
    digest: str,
    decision: Optional[str],
    reason: Optional[str],
    today: Optional[datetime.date] = None,
) -> Baseline:
    """``baseline`` with the entry ``digest`` decided. The day is recorded when the decision
    changes (or was never dated); the same answer again keeps its day, so no churn."""
    day = (today or datetime.date.today()).isoformat()

    def decided(entry: Entry) -> Optional[str]:
        if decision is None:
            return None
        same = entry.decision == decision and entry.decided is not None
        return entry.decided if same else day

    entries = tuple(
        replace(e, decision=decision, reason=reason or None, decided=decided(e))
        if e.digest == digest
        else e
        for e in baseline.entries
    )
    return replace(baseline, entries=entries)


def with_details(
    baseline: Baseline, digest: str, reason: Optional[str], expires: Optional[str]
) -> Baseline:
    """``baseline`` with the entry ``digest``'s reason and expiry set (None or "": removed)."""
    entries = tuple(
        replace(e, reason=reason or None, expires=expires or None) if e.digest == digest else e
        for e in baseline.entries
    )
    return replace(baseline, entries=entries)


def find_entry(baseline: Baseline, prefix: str) -> Entry:
    """The one entry whose hash starts with ``prefix`` (``audit --entry``); ValueError says why
    none or several match."""
    wanted = prefix.strip().lower()
    matches = [e for e in baseline.entries if wanted and e.digest.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(f"no baseline entry's hash starts with {prefix!r}")
    raise ValueError(f"{prefix!r} starts the hash of {len(matches)} entries; give more digits")


@dataclass(frozen=True)
class Applied:
    kept: Tuple[Finding, ...]
    suppressed: int
    warnings: Tuple[str, ...]
    unrotated: Tuple[Unrotated, ...] = ()  # suppressed by entries marked a real leak


def apply(
    baseline: Baseline,
    findings: Iterable[Finding],
    root: str,
    scope: Optional[Scope] = None,
    unread: Iterable[Optional[str]] = (),
    today: Optional[datetime.date] = None,
) -> Applied:
    """Drop findings the baseline accepts; expired entries report again, stale ones warn, and
    an entry marked a real leak still suppresses its finding but never silently: a reminder."""
    today = today or datetime.date.today()
    findings = list(findings)
    known = baseline.by_digest()
    kept: List[Finding] = []
    seen: Set[str] = set()
    expired: Dict[str, Entry] = {}
    leaks: Dict[str, Unrotated] = {}
    for finding in findings:
        entry = known_entry(baseline, known, finding, root)
        if entry is None:
            kept.append(finding)
            continue
        seen.add(entry.digest)
        if entry.expired(today):
            kept.append(finding)
            expired[entry.digest] = entry
        elif entry.decision == LEAK:
            leaks.setdefault(entry.digest, unrotated(entry, finding))
    warnings = [expired_warning(e) for e in sorted(expired.values(), key=Entry.sort_key)]
    reminders = tuple(sorted(leaks.values()))
    warnings += [unrotated_warning(u) for u in reminders]
    skip = frozenset(relative(p, root) for p in unread if p)
    warnings += [stale_warning(e) for e in stale(baseline, seen, scope, skip)]
    return Applied(tuple(kept), len(findings) - len(kept), tuple(warnings), reminders)


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


def unrotated(entry: Entry, finding: Finding) -> Unrotated:
    """The reminder's facts: where the scan met the token (the first place), never the token."""
    if finding.path is None:
        where = f"the message of commit {(finding.commit or '')[:12]}".rstrip()
    else:
        where = mask_tokens(finding.path, (finding.prefix, *BUILTIN_PREFIXES))
        where += f":{finding.line}" if finding.line else ""
    return Unrotated(entry.rule_id, where, entry.redacted, entry.decided, entry.reason)


def unrotated_warning(leak: Unrotated) -> str:
    kind = kinds.by_rule_id(leak.rule_id)
    name = kind.name if kind else f"token ({leak.rule_id})"
    since = f"on {leak.decided}" if leak.decided else "on a day not recorded (an older entry)"
    why = f" ({leak.reason})" if leak.reason else ""
    return (
        f"unrotated leak: {name} {leak.redacted} in {leak.where}, marked a real leak to rotate "
        f"{since}{why}: the baseline still hides it; rotate it, remove it, then run "
        "'copera-secretscan baseline update'"
    )
