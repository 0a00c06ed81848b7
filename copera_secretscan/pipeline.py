"""The pipeline: sources → engine → allow-list → baseline → one ScanResult. The CLI only picks
a mode.

Sources (``sources/``) only produce :class:`~.models.Input` items, names to check, or problems;
this module is the only caller of the engine and the only place a :class:`ScanResult` is
built. Every mode (paths, stdin, the staged index, a commit message, history, ranges, pushes)
feeds the same consumer (:func:`consume`) and ends in :func:`finish`, so counting, timing,
progress, allow comments, the baseline and the ordering of findings behave the same whatever
was scanned. Git history needs more than findings (the commit that introduced each token),
so its mode keeps the findings per blob and message and hands them to ``sources/history.py``,
which places them; it never scans.
"""

from __future__ import annotations

import os
import time
from functools import partial
from itertools import chain
from typing import (
    IO,
    TYPE_CHECKING,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

from . import parallel, unpack
from .config.settings import Settings
from .engine import names
from .engine import scan as engine
from .engine.allowlist import drop_inline_allowed
from .engine.archives import Limits, kind
from .engine.rules import Ruleset
from .errors import FatalError
from .models import (
    HISTORY,
    PUSHED,
    STAGED,
    WORKTREE,
    FileScan,
    Finding,
    Input,
    Name,
    Origin,
    Problem,
    ScanResult,
    Unrotated,
    printable,
    problem_at,
)
from .sources import files
from .sources.targets import FileTarget

if TYPE_CHECKING:  # loaded only by the modes that need them (start-up time)
    from .baseline.records import Applied, Scope
    from .sources.history import Carriers, ObjectScan
    from .sources.objects import Header, MessageHead, Tree

Progress = Callable[[int, int], None]  # (files done, bytes done)
Item = Union[Input, Problem, Name, "Tree"]
Scanned = Iterator[Tuple[Input, FileScan]]
ARCHIVES = Limits()  # the default caps, for callers without settings at hand


def scan_input(item: Input, ruleset: Ruleset, limits: Limits = ARCHIVES) -> FileScan:
    """One input scanned: an archive member by member (unpack.py, within ``limits``), else
    whole bytes at once or a stream window by window. A read that fails half-way makes the
    input a Problem; a custom rule that ran out of time, one too."""
    if not unpack.expands(item.origin, limits):
        return _scan_plain(item, ruleset)
    too_big = None
    if item.data is None:
        try:
            item, too_big = unpack.prepare(item, limits)
        except OSError as exc:
            return FileScan((), problem_at(item.origin, files.read_failure(exc)), 0)
    if item.data is not None and kind(item.data) is not None:
        return _scan_archive(item.data, item.origin, ruleset, limits)
    scanned = _scan_plain(item, ruleset)
    if too_big is None:
        return scanned
    return scanned._replace(problem=_either(problem_at(item.origin, too_big), scanned.problem))


def _scan_archive(data: bytes, origin: Origin, ruleset: Ruleset, limits: Limits) -> FileScan:
    undecided: List[engine.Undecided] = []
    expanded = unpack.scan_archive(data, origin, ruleset, limits, undecided)
    late = undecided_problem(origin, undecided)
    return expanded._replace(problem=_either(expanded.problem, late))


def _either(first: Optional[Problem], second: Optional[Problem]) -> Optional[Problem]:
    """Two problems of one input as one (a scan result holds one), or whichever there is."""
    if first is None or second is None:
        return first or second
    return first._replace(message=f"{first.message}; {second.message}")


def _scan_plain(item: Input, ruleset: Ruleset) -> FileScan:
    """An input scanned as it is, not as an archive."""
    if item.data is not None and not engine.might_contain(item.data, ruleset, item.origin):
        return FileScan((), None, len(item.data))  # nearly every input: one search
    undecided: List[engine.Undecided] = []
    if item.data is not None:
        found = engine.scan_bytes(item.data, item.origin, ruleset, undecided)
        return FileScan(tuple(found), undecided_problem(item.origin, undecided), len(item.data))
    assert item.read is not None, "an Input holds data or a reader"
    size = [0]
    read = item.read

    def counted(n: int) -> bytes:
        data = read(n)
        size[0] += len(data)
        return data

    try:
        stream = engine.scan_stream(counted, item.origin, ruleset, undecided=undecided)
        findings = tuple(stream)
    except OSError as exc:
        return FileScan((), problem_at(item.origin, files.read_failure(exc)), 0)
    return FileScan(findings, undecided_problem(item.origin, undecided), size[0])


def undecided_problem(origin: Origin, undecided: Sequence[engine.Undecided]) -> Optional[Problem]:
    """One Problem for an input a custom rule ran out of time on, naming each such rule once.

    The scan goes on and keeps every finding; the input only counts as incomplete.
    """
    if not undecided:
        return None
    first: Dict[str, engine.Undecided] = {}
    for item in undecided:
        first.setdefault(item.rule_id, item)
    return problem_at(origin, "; ".join(map(str, first.values())))


def scan_file(target: FileTarget, ruleset: Ruleset, limits: Limits = ARCHIVES) -> FileScan:
    """One file of a scan of paths (in a worker process too): a file that could not be read
    counts as a file, with its problem."""
    return _one(files.read_target(target), ruleset, limits)


def _one(items: Iterable[files.Item], ruleset: Ruleset, limits: Limits = ARCHIVES) -> FileScan:
    """The scan of a source that yields one item (a file, standard input)."""
    scanned = FileScan((), None, 0)
    for item in items:  # read to the end: the source closes the file when resumed
        if isinstance(item, Problem):
            scanned = FileScan((), item, 0)
        else:
            scanned = scan_input(item, ruleset, limits)
    return scanned


class Tally:
    """What a scan has seen so far; :func:`finish` turns it into the one ScanResult. A plain
    class: one per scan, and it changes as the scan goes."""

    def __init__(self, settings: Settings, progress: Optional[Progress] = None) -> None:
        self.settings = settings
        self.progress = progress
        self.ruleset: Ruleset = settings.ruleset()
        self.limits: Limits = settings.archive_limits()
        self.started = time.perf_counter()
        self.findings: List[Finding] = []
        self.problems: List[Problem] = []
        self.named: Dict[names.NameKey, Finding] = {}  # tokens in names
        self.files = 0
        self.bytes = 0

    def count(self, scanned: FileScan, file: bool = True) -> None:
        self.files += scanned.files if file else 0
        self.bytes += scanned.size
        if self.progress is not None:
            self.progress(self.files, self.bytes)

    def keep(self, scanned: FileScan) -> None:
        self.findings.extend(scanned.findings)
        if scanned.problem is not None:
            self.problems.append(scanned.problem)

    def note_name(self, name: Name) -> None:
        found = names.name_findings(
            name.path, self.ruleset, name.shown, rooted=printable(name.path)
        )
        names.collect(found, self.named)


def consume(tally: Tally, items: Iterable[Item]) -> Scanned:
    """Scan and count every item of a source; yield each input that had something to say.

    Problems and names are recorded on ``tally``; what to keep of an input's findings is the
    caller's (:func:`kept`, or history's per-blob bookkeeping).
    """
    for item in items:
        if isinstance(item, Input):
            scanned = scan_input(item, tally.ruleset, tally.limits)
            tally.count(scanned, item.file)
            if scanned.findings or scanned.problem is not None:
                yield item, scanned
        elif isinstance(item, Problem):
            tally.problems.append(item)
        elif isinstance(item, Name):
            tally.note_name(item)
        else:
            scan_tree(item.header, item.data, tally.ruleset, tally.named)


def kept(tally: Tally, scanned: Scanned) -> None:
    """Every finding and problem of ``scanned`` kept as it is: every mode but history."""
    for _, result in scanned:
        tally.keep(result)


def scan_tree(
    header: Header, data: bytes, ruleset: Ruleset, named: Dict[names.NameKey, Finding]
) -> None:
    """Tokens in the names a tree lists: git stores names too. A finding's path is the entry's
    path, with rev-list's path of the tree in front; history.py finds the commit that added it."""
    anchors = names.anchors(ruleset)
    # An anchor in a name is an anchor in the tree's bytes (names hold no "/", anchors only
    # token characters: config/file.py), so nearly every tree costs one search, and none of
    # the content prefilter's disguise finders, which names never get (issue 14: a third of a
    # history's objects are trees).
    if not any(anchor.encode("ascii") in data for anchor in anchors):
        return
    from .sources.objects import tree_paths

    for path in tree_paths(header, data):
        if any(anchor in path for anchor in anchors):
            names.collect(names.name_findings(path, ruleset), named)


def finish(
    tally: Tally,
    scope: Optional[Scope] = None,
    named: bool = True,
    context: str = WORKTREE,
    scanned: str = "",
) -> ScanResult:
    """Apply allow comments and the baseline and order everything: the one ScanResult.

    ``scope`` (what was scanned) lets the baseline call an entry stale; None means "unknown".
    ``named``: the tokens found in names are findings as they are (history places them first).
    ``context`` and ``scanned`` say where the content sits and what was covered (models.py).
    """
    settings = tally.settings
    found: Iterable[Finding] = (
        chain(tally.findings, tally.named.values()) if named else tally.findings
    )
    problems = tuple(tally.problems)
    excluded = settings.excluder()
    if excluded is not None:  # a scan of paths skipped these files; git modes read them whole
        found = [f for f in found if not _excluded(f.root_path, settings.root, excluded)]
    standing, suppressed = drop_inline_allowed(found, settings.allow_markers)
    warnings: Tuple[str, ...] = ()
    unrotated: Tuple[Unrotated, ...] = ()
    if settings.baseline is not None:
        applied = _apply_baseline(standing, problems, settings, scope)
        standing, warnings = list(applied.kept), applied.warnings
        suppressed += applied.suppressed
        unrotated = applied.unrotated
    return ScanResult(
        findings=tuple(sorted(standing, key=Finding.sort_key)),
        problems=problems,
        files=tally.files,
        bytes=tally.bytes,
        seconds=time.perf_counter() - tally.started,
        suppressed=suppressed,
        warnings=warnings,
        context=context,
        scanned=scanned,
        unrotated=unrotated,
        rules=tally.ruleset.rules,
    )


def _excluded(path: Optional[str], root: str, excluded: Callable[..., bool]) -> bool:
    """``exclude`` (config or ``--exclude``) applies to what every mode found, not only to the
    files a walk skips: a blob of ``vendor/`` in a push, the index or history is excluded as
    the file on disk is. An archive member is excluded with its archive (``a.zip!b.txt``)."""
    if path is None:
        return False  # a commit message has no path to exclude
    parts = path.split("!")
    outers = ("!".join(parts[: end + 1]) for end in range(len(parts)))
    return any(excluded(os.path.join(root, outer)) for outer in outers)


def _apply_baseline(
    findings: List[Finding],
    problems: Tuple[Problem, ...],
    settings: Settings,
    scope: Optional[Scope],
) -> Applied:
    """The baseline (read once per run) applied; files that could not be read are not stale."""
    from .baseline import file as baselinefile
    from .baseline import records as baseline

    assert settings.baseline is not None
    known = baselinefile.load(settings.baseline)
    unread = [problem.path for problem in problems]
    return baseline.apply(known, findings, settings.root, scope, unread)


def exit_code(result: ScanResult, fail_on_unrotated: bool = False) -> int:
    """0 clean and complete, 1 tokens found (even if incomplete), 2 incomplete.

    ``fail_on_unrotated``: a token the baseline marks a real leak to rotate is 1 too: it is a
    live token in the code, which is what 1 means; 2 would read as "the scan broke"."""
    if result.findings or (fail_on_unrotated and result.unrotated):
        return 1
    return 2 if result.problems else 0


# The modes: each picks a source and feeds the consumer.


def scan_paths(
    paths: Sequence[str],
    settings: Settings,
    use_ignore: bool = True,
    progress: Optional[Progress] = None,
    jobs: Optional[int] = None,
) -> ScanResult:
    """Scan files and directories (``-`` is standard input).

    ``jobs`` caps the worker processes of a large scan (None or 0: one per core; 1: none).
    """
    tally = Tally(settings, progress)
    ruleset = tally.ruleset
    limits = tally.limits
    stdin = [_one(files.read_stdin(), ruleset, limits)] if files.STDIN in paths else []
    paths = [p for p in paths if p != files.STDIN]
    names.collect(_above_cwd(settings.root, ruleset), tally.named)
    targets = files.iter_targets(
        paths, use_ignore=use_ignore, exclude=settings.excluder(), asked=settings.asked
    )
    targets = _noting_names(targets, ruleset, tally.named)
    plan = parallel.plan_for(jobs)
    for item in chain(
        stdin,
        parallel.scan_targets(targets, partial(scan_file, ruleset=ruleset, limits=limits), plan),
    ):
        if isinstance(item, Problem):
            tally.problems.append(item)
        else:
            tally.count(item)
            tally.keep(item)
    scope = None
    if settings.baseline is not None:
        from .baseline.records import scope_of

        scope = scope_of(paths, settings.root)
    return finish(tally, scope=scope)


def _noting_names(
    targets: Iterable[parallel.Target], ruleset: Ruleset, named: Dict[names.NameKey, Finding]
) -> Iterator[parallel.Target]:
    """The targets, passed on unchanged, with any token in their paths noted in ``named``.

    This runs once per file in the process that walks, so the common case (one anchor, a path
    without it) is a single substring test.
    """
    anchors = names.anchors(ruleset)
    anchor = anchors[0] if len(anchors) == 1 else None
    for target in targets:
        path = target.path if isinstance(target, Problem) else target.display
        if path is not None and (anchor in path if anchor else any(a in path for a in anchors)):
            rooted = None if isinstance(target, Problem) else target.rooted
            names.collect(names.name_findings(path, ruleset, rooted=rooted), named)
        yield target


def _above_cwd(root: str, ruleset: Ruleset) -> List[Finding]:
    """Tokens in the directories between the repository root and the working directory: paths
    are shown relative to the working directory, but git stores those names too."""
    cwd = os.getcwd()
    if cwd == root or not cwd.startswith(os.path.join(root, "")):
        return []
    rel = os.path.relpath(cwd, root).replace(os.sep, "/")

    def shown(path: str) -> str:
        return printable(os.path.join(root, path))

    return names.name_findings(rel, ruleset, shown, rooted=printable(rel))


def scan_staged(settings: Settings, progress: Optional[Progress] = None) -> ScanResult:
    """The index as the next commit will record it: added, copied, modified and renamed files."""
    from .sources import objects  # a scan of PATHS never pays for the git sources

    tally = Tally(settings, progress)
    try:
        kept(tally, consume(tally, objects.staged_items()))
    except FatalError as exc:
        tally.problems.append(objects.salvage(exc, bool(tally.findings or tally.named)))
    return finish(tally, context=STAGED)


def scan_commit_msg(path: str, settings: Settings) -> ScanResult:
    """The message file of the commit being made (the commit-msg hook)."""
    from .sources import objects

    tally = Tally(settings)
    for _, scanned in consume(tally, objects.commit_msg_items(path)):
        problem = scanned.problem  # named after the file: its findings are in a message
        tally.keep(
            scanned if problem is None else scanned._replace(problem=problem._replace(path=path))
        )
    return finish(tally, context=STAGED)


def scan_history(
    settings: Settings, rev_range: Optional[str] = None, progress: Optional[Progress] = None
) -> ScanResult:
    """``scan --history`` (every ref) or ``scan --git RANGE``."""
    from .sources import git, history

    found = git.require_version()  # before any other git call, so an old git gets one clear line
    revs = history.range_revs(rev_range) if rev_range else history.history_revs()
    return scan_revs(revs, settings, progress, found)


def scan_pre_push(
    settings: Settings,
    progress: Optional[Progress] = None,
    env: Optional[Mapping[str, str]] = None,
    stdin: Optional[IO[str]] = None,
) -> ScanResult:
    """Every blob and commit message a push sends, like ``scan --git``."""
    from .sources import pushes

    revs = pushes.push_revs(env, stdin)
    if not revs:
        return finish(Tally(settings), context=PUSHED)
    return scan_revs(revs, settings, progress, context=PUSHED)


def scan_ci(
    settings: Settings,
    progress: Optional[Progress] = None,
    env: Optional[Mapping[str, str]] = None,
) -> ScanResult:
    """The commits this CI pipeline brings (``sources/ci.py`` reads the provider), like
    ``scan --git``; the result says which range and why."""
    from .sources import ci, git

    found = git.require_version()
    chosen = ci.ci_range(os.environ if env is None else env, os.getcwd())
    if not chosen.revs:
        return finish(Tally(settings), context=PUSHED, scanned=chosen.why)
    return scan_revs(chosen.revs, settings, progress, found, context=PUSHED, scanned=chosen.why)


def scan_revs(
    revs: Sequence[str],
    settings: Settings,
    progress: Optional[Progress] = None,
    found: Tuple[int, ...] = (),
    context: str = HISTORY,
    scanned: str = "",
) -> ScanResult:
    """Scan what ``rev-list revs`` reaches and report each (token, path) at its first commit.

    ``context`` and ``scanned`` are handed to the result as they are (see :func:`finish`)."""
    from .sources import git, gitobjects, history, objects

    if not found:  # scan_history asked already, before its first other git call
        git.require_version()
    tally = Tally(settings, progress)
    cwd = os.getcwd()
    scan = history.ObjectScan(problems=tally.problems)
    try:
        boundary = git.shallow_commits(cwd)
        with gitobjects.object_stream(revs, cwd) as stream:
            _record(scan, consume(tally, objects.object_items(stream, boundary)))
    except FatalError as exc:  # a bad range, no repository, a corrupt object: git stopped
        tally.problems.append(objects.salvage(exc, bool(scan.blobs or scan.messages)))
    scan.names = list(tally.named.values())
    carriers: history.Carriers = {}
    findings = _blob_provenance(scan, revs, tally, cwd, carriers)
    findings += history.message_provenance(scan.messages, carriers)
    findings += history.name_provenance(scan, revs, cwd, carriers)
    spread = [history.spread(finding, carriers) for finding in findings]
    tally.findings = history.with_refs(spread, carriers, cwd)
    return finish(tally, named=False, context=context, scanned=scanned)


def _record(scan: ObjectScan, scanned: Scanned) -> None:
    """History keeps findings per blob and per message: provenance needs to know which."""
    from .sources.objects import MessageHead

    for item, result in scanned:
        if isinstance(item.about, MessageHead):
            _record_message(scan, item.about, result)
            continue
        if result.findings:
            scan.blobs[str(item.about)] = list(result.findings)
            scan.scanned_as[str(item.about)] = item.origin.path
        if result.problem is not None:
            scan.problems.append(result.problem)


def _record_message(scan: ObjectScan, carried: MessageHead, result: FileScan) -> None:
    from .sources.objects import message_of

    header = carried.header
    if result.problem is not None:
        label = f"message of {header.kind} {header.oid}: "
        scan.problems.append(result.problem._replace(message=label + result.problem.message))
    if result.findings:
        message = message_of(carried)  # a tag's findings move to the object it tags
        at = Origin(None, message.commit)
        scan.messages.extend((message, found._replace(origin=at)) for found in result.findings)


def _blob_provenance(
    scan: ObjectScan, revs: Sequence[str], tally: Tally, cwd: str, carriers: Carriers
) -> List[Finding]:
    """Blob findings placed at their first commits, with whether HEAD still holds them."""
    from .sources import history

    if not scan.blobs:
        return []
    groups: history.Groups = {}
    at_head: history.AtHead = None
    try:
        history.blob_changes(scan, revs, cwd, carriers, groups)
        at_head = _head_tokens({key[2] for key in groups}, tally, cwd)
    except FatalError as exc:  # tokens were found: report them, and say what is unknown
        scan.problems.append(history.salvage(exc, True))
    return history.blob_provenance(scan, groups, at_head)


def _head_tokens(paths: Set[str], tally: Tally, cwd: str) -> Dict[str, Set[str]]:
    """The tokens each of ``paths`` holds at HEAD. A custom rule that runs out of time here is
    not a second problem: the history pass reported it for the blob."""
    from .sources.history import head_inputs

    return {
        str(item.about): {found.secret for found in _findings(item, tally)}
        for item in head_inputs(paths, cwd)
    }


def _findings(item: Input, tally: Tally) -> Tuple[Finding, ...]:
    return scan_input(item, tally.ruleset, tally.limits).findings
