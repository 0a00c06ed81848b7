"""Workflows over a baseline file: build it from a scan, audit its entries, report on it for CI.

No click here: the CLI asks the questions and this module answers everything else, so the
audit's display and bookkeeping are testable without a terminal. An entry holds no line number,
so to show it in context the entry's file is scanned again and the token found by its hash;
the context is always masked, because an audit is often screen-shared or pasted into a ticket.
"""

from __future__ import annotations

import datetime
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .. import pipeline
from ..config.settings import Settings, shown_path
from ..console import plural
from ..errors import FatalError
from ..models import BUILTIN_PREFIXES, Finding, Input, Origin, ScanResult, inert, mask_tokens
from ..sources.readfile import read_regular
from . import file as baselinefile
from .records import (
    FALSE_POSITIVE,
    LEAK,
    Baseline,
    Entry,
    find_entry,
    merged,
    scope_of,
    with_decision,
    with_details,
)

_ESCAPE = re.compile(rb"\\(x[0-9a-f]{2}|[ntr])")  # what models.printable writes for a byte
_UNESCAPE = {b"n": b"\n", b"t": b"\t", b"r": b"\r"}
CONTEXT_LINES = 2  # lines shown above and below the token
_WIDTH = 120
DECISION_NAMES = {LEAK: "real leak, to rotate", FALSE_POSITIVE: "false positive", None: "undecided"}
EXIT_OK = 0
EXIT_ATTENTION = 1  # an entry is a real leak still present, or has expired
CLEAR = "-"  # as a reason or an expiry, typed or given to --set-*: remove it
KEEP = None  # a --set-* option not given: the entry keeps its value


def build(
    paths: Sequence[str],
    settings: Settings,
    target: str,
    update: bool,
    use_ignore: bool = True,
    force: bool = False,
) -> Tuple[Baseline, ScanResult]:
    """Scan ``paths`` (the baseline not applied) and the baseline ``target`` should now hold.

    ``create`` keeps the salt and decisions of a sound existing file, so re-running it on an
    unchanged tree rewrites the same bytes and never throws audit work away. ``update`` reads
    the file strictly and also keeps entries for paths outside what was scanned.
    """
    old = previous(target, update, force)
    result = pipeline.scan_paths(paths, settings._replace(baseline=None), use_ignore=use_ignore)
    scope = scope_of([p for p in paths if p != "-"], settings.root) if update else None
    return merged(old, result.findings, settings.root, scope), result


def previous(target: str, update: bool, force: bool) -> Optional[Baseline]:
    """The baseline already at ``target`` to carry over, None when there is none to keep.

    A file that exists but does not load (merge-conflict markers, a bad hand edit) holds
    decisions, reasons and the salt that a silent rewrite would lose, so ``create`` refuses it
    too unless ``force`` says that loss is intended; ``update`` always refuses it.
    """
    if not update and (force or not os.path.lexists(target)):
        return baselinefile.load_if_valid(target)
    try:
        return baselinefile.load(shown_path(target))  # the message names it as the user would
    except FatalError as exc:
        if update:
            raise
        raise FatalError(f"{exc}; not replaced (fix it, or use --force to start over)") from exc


@dataclass(frozen=True)
class Located:
    """Where an entry's token is now, with the surrounding lines already masked."""

    line: int
    context: Tuple[Tuple[int, str], ...]  # (line number, masked text)


def locate_all(baseline: Baseline, settings: Settings) -> Dict[str, Located]:
    """Digest -> where the token is now, for every entry still present in its file."""
    found: Dict[str, Located] = {}
    for path in sorted({entry.path for entry in baseline.entries}):
        found.update(_locate_in(path, baseline, settings))
    return found


def _locate_in(path: str, baseline: Baseline, settings: Settings) -> Dict[str, Located]:
    data = _entry_file(settings.root, path)
    if data is None:
        return _locate_in_archive(path, baseline, settings)
    findings = _findings(path, data, settings)
    lines = data.decode("utf-8", "replace").split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()  # the final newline ends the last line; it does not start another
    located: Dict[str, Located] = {}
    for finding in findings:
        digest = baseline.digest(finding.rule_id, path, finding.secret)
        located.setdefault(digest, Located(finding.line, _context(lines, finding, findings)))
    return located


def _findings(path: str, data: bytes, settings: Settings) -> List[Finding]:
    """The findings in ``data`` scanned as the file ``path``; a custom rule that ran out of
    time, or an archive a cap stopped, is an error: never "stale"."""
    scanned = pipeline.scan_input(
        Input(Origin(path), data), settings.ruleset(), settings.archive_limits()
    )
    if scanned.problem is not None:
        raise FatalError(str(scanned.problem))
    return list(scanned.findings)


def _locate_in_archive(path: str, baseline: Baseline, settings: Settings) -> Dict[str, Located]:
    """An entry in an archive's member (``app.zip!conf/x.env``), found by scanning the archive
    again; its line is shown alone, the member's other lines being inside the archive."""
    cuts = [index for index, char in enumerate(path) if char == "!"]
    for cut in cuts:  # the first prefix that is a file: a name may hold a "!" itself
        data = _entry_file(settings.root, path[:cut])
        if data is not None:
            break
    else:
        return {}  # gone or unreadable: the entry is reported as stale
    located: Dict[str, Located] = {}
    found = [f for f in _findings(path[:cut], data, settings) if f.path == path]
    for finding in found:
        digest = baseline.digest(finding.rule_id, path, finding.secret)
        context = ((finding.line, _masked(finding.line_text, found)),)
        located.setdefault(digest, Located(finding.line, context))
    return located


def _entry_file(root: str, path: str) -> Optional[bytes]:
    """The bytes of the regular file an entry names, or None.

    Paths are stored the way :func:`~.models.printable` shows them (``caf\\xe9.env``), so the
    file is that name or the one its escapes stand for. The file must be regular: a hand-edited
    entry naming ``/dev/zero`` or a FIFO must not make ``audit --report`` read forever.
    """
    for name in dict.fromkeys((path, _unescaped(path))):
        data = _regular_bytes(os.path.join(root, name))
        if data is not None:
            return data
    return None


def _unescaped(path: str) -> str:
    return os.fsdecode(_ESCAPE.sub(_byte, path.encode("utf-8", "surrogateescape")))


def _byte(match: re.Match[bytes]) -> bytes:
    code = match[1]
    return _UNESCAPE.get(code) or bytes.fromhex(code[1:].decode("ascii"))


def _regular_bytes(name: str) -> Optional[bytes]:
    try:
        return read_regular(name)
    except OSError:
        return None


def _context(
    lines: List[str], finding: Finding, every: List[Finding]
) -> Tuple[Tuple[int, str], ...]:
    first = max(1, finding.line - CONTEXT_LINES)
    last = min(len(lines), finding.line + CONTEXT_LINES)
    return tuple((n, _masked(lines[n - 1], every)) for n in range(first, last + 1))


def _masked(line: str, findings: List[Finding]) -> str:
    """The line with every token on it redacted, trimmed to a readable width."""
    for finding in findings:
        line = line.replace(finding.secret, finding.redacted)
    line = mask_tokens(line.rstrip("\r"), BUILTIN_PREFIXES)
    return inert(line if len(line) <= _WIDTH else line[:_WIDTH] + "…")


def show(entry: Entry, located: Optional[Located], index: int, total: int) -> str:
    """One entry as the audit presents it: where, what, the masked context, the decision."""
    where = f"{entry.path}:{located.line}" if located else entry.path
    lines = [f"[{index}/{total}] {where}  {entry.rule_id}  {entry.redacted}  {_id(entry)}"]
    if located is None:
        lines.append("    (no longer found in this file: stale; 'baseline update' drops it)")
    else:
        width = len(str(located.context[-1][0]))
        for number, text in located.context:
            mark = ">" if number == located.line else " "
            lines.append(f"  {mark} {str(number).rjust(width)} | {text}")
    lines.append(f"    decision: {DECISION_NAMES[entry.decision]}" + _extra(entry))
    return "\n".join(lines)


def _extra(entry: Entry) -> str:
    extra = f"; reason: {entry.reason}" if entry.reason else ""
    extra += f"; expires {entry.expires}" if entry.expires else ""
    return extra + (f"; decided {entry.decided}" if entry.decided else "")


def _id(entry: Entry) -> str:
    """How a person names an entry to ``audit --entry``: the start of its hash."""
    return f"entry {entry.digest[:12]}"


@dataclass(frozen=True)
class Change:
    """What ``audit --entry`` sets; :data:`KEEP` leaves a value, :data:`CLEAR` removes it."""

    decision: Optional[str] = KEEP
    reason: Optional[str] = KEEP
    expires: Optional[str] = KEEP


def change(baseline: Baseline, prefix: str, wanted: Change) -> Tuple[Baseline, Entry]:
    """The baseline with one entry (named by a hash prefix) changed, and that entry after.

    For scripts, so reasons and expiries are set the same way the interactive audit sets them:
    a new decision is dated like an interactive one.
    """
    try:
        entry = find_entry(baseline, prefix)
    except ValueError as exc:
        raise FatalError(f"--entry: {exc}") from exc
    if wanted.decision is not KEEP:
        baseline = with_decision(baseline, entry.digest, wanted.decision, entry.reason)
    reason = _new(entry.reason, wanted.reason)
    baseline = with_details(baseline, entry.digest, reason, _new(entry.expires, wanted.expires))
    return baseline, baseline.by_digest()[entry.digest]


def _new(old: Optional[str], given: Optional[str]) -> Optional[str]:
    if given is KEEP:
        return old
    return None if given == CLEAR else given


def described(entry: Entry) -> str:
    """One line saying what an entry now holds, after ``audit --entry``."""
    where = entry.path or "a commit message"
    return (
        f"{_id(entry)}: {where}  {entry.rule_id}  {entry.redacted}  "
        f"{DECISION_NAMES[entry.decision]}{_extra(entry)}"
    )


def to_audit(baseline: Baseline, everything: bool) -> List[Entry]:
    return [entry for entry in baseline.entries if everything or entry.decision is None]


def report(
    baseline: Baseline, settings: Settings, today: Optional[datetime.date] = None
) -> Tuple[str, int]:
    """The CI log view of a baseline, and its exit code.

    Exit 1 while an entry is marked a real leak and its token is still in the file (rotate it,
    remove it, then 'baseline update' drops the entry) or an entry has expired: both mean a
    token the team agreed must go is still there. Undecided and stale entries are listed but
    do not fail the job.
    """
    today = today or datetime.date.today()
    found = locate_all(baseline, settings)
    rows, attention = [], 0
    for entry in baseline.entries:
        states = _states(entry, entry.digest in found, today)
        attention += "EXPIRED" in states or ("present" in states and entry.decision == LEAK)
        where = f"{entry.path}:{found[entry.digest].line}" if entry.digest in found else entry.path
        rows.append(
            f"{where}  {entry.rule_id}  {entry.redacted}  {DECISION_NAMES[entry.decision]}"
            f"  [{', '.join(states)}]{_extra(entry)}  ({_id(entry)})"
        )
    return "\n".join([*rows, _summary(baseline, found, attention)]) + "\n", int(attention > 0)


def _states(entry: Entry, present: bool, today: datetime.date) -> List[str]:
    states = ["present" if present else "STALE: no longer found"]
    return [*states, "EXPIRED"] if entry.expired(today) else states


def _summary(baseline: Baseline, found: Dict[str, Located], attention: int) -> str:
    entries = baseline.entries
    counts = {
        name: sum(1 for e in entries if e.decision == key)
        for key, name in [(LEAK, "real leak"), (FALSE_POSITIVE, "false positive")]
    }
    undecided = sum(1 for e in entries if e.decision is None)
    stale = sum(1 for e in entries if e.digest not in found)
    parts = [plural(n, name) for name, n in counts.items()]
    parts += [f"{undecided} undecided", f"{stale} stale"]
    verdict = f"; {attention} need{'s' if attention == 1 else ''} attention" if attention else ""
    return f"baseline: {plural(len(entries), 'entry', 'entries')}: {', '.join(parts)}{verdict}."
