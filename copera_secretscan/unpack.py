"""Archive inputs scanned member by member: ``outer.zip!inner/path``, nested as deep as allowed.

The pipeline hands every input here first (:func:`prepare`), whatever its source (files on
disk, the index, history), so archives are expanded in one place. The engine's archives.py
knows the formats and the caps; this module walks the members, scans each like a file (an
archive inside is expanded in turn), and reports tokens in member names as it reports them in
file names.

When an archive expands completely, its raw bytes are not scanned plain as well: every byte of
content is in some member, and a stored zip member would otherwise be reported twice, once at
a line of the zip that means nothing. When a cap stops the expansion or the archive is corrupt,
the raw bytes are scanned plain too (a token once: one already found in a member is not
reported again), and the input has a Problem naming the archive and the cap.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from .engine import archives, names
from .engine import scan as engine
from .engine.archives import Budget, Limits
from .engine.rules import Ruleset
from .models import (
    CHUNK_SIZE,
    FileScan,
    Finding,
    Input,
    Origin,
    Problem,
    origin_of,
    printable,
    problem_at,
)

SHOWN_PROBLEMS = 3  # an input's problems listed in full; the rest are counted


def expands(origin: Origin, limits: Limits) -> bool:
    """Whether an input may be an archive to expand: not when expansion is off, and never a
    commit message (it has no path to put members under)."""
    return limits.depth > 0 and origin.path is not None


def prepare(item: Input, limits: Limits) -> Tuple[Input, Optional[str]]:
    """``item`` with its bytes in memory when it is a streamed archive within the byte cap;
    any other stream comes back with the bytes read so far put back in front.

    The second value is the problem of an archive too big to expand (scanned plain instead).
    Raises OSError when reading fails.
    """
    if item.data is not None or item.read is None:
        return item, None
    read = item.read
    chunks = [read(CHUNK_SIZE)]
    if archives.kind(chunks[0]) is None:
        return _put_back(item, chunks), None
    size = len(chunks[0])
    while chunks[-1] and size <= limits.bytes:
        chunks.append(read(CHUNK_SIZE))
        size += len(chunks[-1])
    if not chunks[-1]:
        return item._replace(data=b"".join(chunks), read=None), None
    too_big = f"archive larger than {limits.bytes} bytes: scanned as plain bytes"
    return _put_back(
        item, chunks
    ), f"{too_big} (cap: raise {archives.BYTES_KEY} in the configuration)"


def _put_back(item: Input, chunks: List[bytes]) -> Input:
    assert item.read is not None
    more = item.read
    pending = chunks[::-1]

    def read(size: int) -> bytes:
        return pending.pop() if pending else more(size)

    return item._replace(read=read)


class _Unpacking:
    """What the expansion of one input has found so far."""

    def __init__(self, ruleset: Ruleset, budget: Budget, undecided: List[engine.Undecided]) -> None:
        self.ruleset = ruleset
        self.budget = budget
        self.undecided = undecided
        self.findings: List[Finding] = []
        self.problems: List[Problem] = []
        self.named: Dict[names.NameKey, Finding] = {}
        self.secrets: Set[str] = set()
        # a member name without one of these holds no token
        self.anchors: Tuple[str, ...] = names.anchors(ruleset)


def scan_archive(
    data: bytes, origin: Origin, ruleset: Ruleset, limits: Limits, undecided: List[engine.Undecided]
) -> FileScan:
    """The findings in the members of archive ``data`` and in their names."""
    state = _Unpacking(ruleset, Budget(limits), undecided)
    _expand(state, data, origin, 1)
    found = (*state.findings, *state.named.values())
    return FileScan(found, joined(origin, state.problems), len(data))


def _expand(state: _Unpacking, data: bytes, origin: Origin, depth: int) -> None:
    """Every member of the archive ``data`` scanned; on any stop, its raw bytes too."""
    limits = state.budget.limits
    if depth > limits.depth:
        nested = f"archive nested more than {limits.depth} deep: scanned as plain bytes"
        cap = f"(cap: raise {archives.DEPTH_KEY} in the configuration)"
        state.problems.append(problem_at(origin, f"{nested} {cap}"))
        _plain(state, data, origin)
        return
    complete = True
    for item in archives.members(data, _own_name(origin), state.budget):
        if isinstance(item, str):
            state.problems.append(problem_at(origin, item))
            complete = False
            continue
        inner = member_origin(origin, item.name)
        _note_name(state, origin, item.name)
        if archives.kind(item.data) is None:
            _plain(state, item.data, inner)
        else:
            _expand(state, item.data, inner, depth + 1)
    if not complete:
        _plain(state, data, origin)


def _plain(state: _Unpacking, data: bytes, origin: Origin) -> None:
    if not engine.might_contain(data, state.ruleset, origin):
        return  # nearly every member, as nearly every file: the one cheap test
    found = engine.scan_bytes(data, origin, state.ruleset, state.undecided)
    state.findings += [finding for finding in found if finding.secret not in state.secrets]
    state.secrets.update(finding.secret for finding in found)


def member_origin(outer: Origin, name: str) -> Origin:
    """``outer!name``, both as shown and from the root; a tar's ``./`` is no part of a name."""
    shown = printable(_clean(name))
    rooted = outer.root_path
    return origin_of(f"{outer.path}!{shown}", f"{rooted}!{shown}", outer.commit)


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/") or name


def _note_name(state: _Unpacking, outer: Origin, name: str) -> None:
    """A token in a member's name is a finding at ``outer!path/to/that-name``."""
    if not any(anchor in name for anchor in state.anchors):
        return  # nearly every member: a substring test per anchor
    inner = printable(_clean(name))
    found = names.name_findings(
        inner,
        state.ruleset,
        lambda part: f"{outer.path}!{part}",
        outer.commit,
        rooted=f"{outer.root_path}!{inner}",
    )
    names.collect(found, state.named)


def _own_name(origin: Origin) -> str:
    """The archive's file name: a gzip's member is named after it."""
    path = origin.path or ""
    return path.rsplit("!", 1)[-1].rsplit("/", 1)[-1]


def joined(origin: Origin, problems: List[Problem]) -> Optional[Problem]:
    """One Problem for an input (a scan result holds one): the only one as it is, or each of
    several named with its archive, at the outer input."""
    if len(problems) < 2:
        return problems[0] if problems else None
    shown = [str(problem) for problem in problems[:SHOWN_PROBLEMS]]
    if len(problems) > SHOWN_PROBLEMS:
        shown.append(f"and {len(problems) - SHOWN_PROBLEMS} more archive problems")
    return problem_at(origin, "; ".join(shown))
