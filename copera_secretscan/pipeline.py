"""The pipeline: sources → engine → allow-list → one ScanResult. The CLI only wires this up.

Every scan entry point (paths, stdin, and the git sources) ends in :func:`finish`, so allow
comments, the baseline and the ordering of findings behave the same whatever was scanned.
"""

from __future__ import annotations

import os
import time
from itertools import chain
from typing import (
    TYPE_CHECKING,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
)

from . import parallel
from .config.settings import Settings
from .engine import names
from .engine.allowlist import drop_inline_allowed
from .engine.rules import Ruleset
from .models import Finding, Problem, ScanResult, printable
from .sources import files as sources

if TYPE_CHECKING:  # the baseline modules load only when a baseline is in use (start-up time)
    from .baseline.records import Applied, Scope

Progress = Callable[[int, int], None]  # (files done, bytes done)


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
    started = time.perf_counter()
    ruleset = settings.ruleset()
    findings: List[Finding] = []
    problems: List[Problem] = []
    files = size = 0
    if sources.STDIN in paths:
        scans = [sources.read_stdin(ruleset)]
        paths = [p for p in paths if p != sources.STDIN]
    else:
        scans = []
    named: Dict[names.NameKey, Finding] = {}
    names.collect(_above_cwd(settings.root, ruleset), named)
    targets = sources.iter_targets(paths, use_ignore=use_ignore, exclude=settings.excluder())
    targets = _noting_names(targets, ruleset, named)
    scanned = parallel.scan_targets(targets, ruleset, parallel.plan_for(jobs))
    for item in chain(scans, scanned):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        files += item.files
        size += item.size
        findings.extend(item.findings)
        if item.problem is not None:
            problems.append(item.problem)
        if progress is not None:
            progress(files, size)
    findings.extend(named.values())
    scope = None
    if settings.baseline is not None:
        from .baseline.records import scope_of

        scope = scope_of(paths, settings.root)
    seconds = time.perf_counter() - started
    return finish(findings, problems, settings, files, size, seconds, scope=scope)


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


def finish(
    findings: Iterable[Finding],
    problems: Iterable[Problem],
    settings: Settings,
    files: int,
    size: int,
    seconds: float,
    scope: Optional[Scope] = None,
) -> ScanResult:
    """Apply allow comments and order everything, so every source reports the same way.

    ``scope`` (what was scanned) lets the baseline call an entry stale; None means "unknown".
    """
    problems = tuple(problems)
    standing, suppressed = drop_inline_allowed(findings, settings.allow_markers)
    warnings: Tuple[str, ...] = ()
    if settings.baseline is not None:
        applied = _apply_baseline(standing, problems, settings, scope)
        standing, warnings = list(applied.kept), applied.warnings
        suppressed += applied.suppressed
    return ScanResult(
        findings=tuple(sorted(standing, key=Finding.sort_key)),
        problems=problems,
        files=files,
        bytes=size,
        seconds=seconds,
        suppressed=suppressed,
        warnings=warnings,
        rules=settings.ruleset().rules,
    )


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


def exit_code(result: ScanResult) -> int:
    """0 clean and complete, 1 tokens found (even if incomplete), 2 incomplete."""
    if result.findings:
        return 1
    return 2 if result.problems else 0
