"""``doctor``: the conditions that make a leak likely, judged before the leak.

:mod:`.sources.hygiene` gathers the facts (untracked and tracked files, the home config, the
hooks and CI recipes); this module turns them into :class:`Issue` records, each with the exact
fix. Untracked files are scanned for tokens through the pipeline, like any scan, so allow
comments, custom rules and redaction behave as everywhere. A problem makes the run exit 1;
advice (protection not installed) never does.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

from . import pipeline
from .config.locate import toml_module
from .config.settings import Settings
from .console import EXIT_ERROR, EXIT_FOUND, EXIT_OK
from .models import Finding, Problem, printable
from .sources import hygiene
from .sources.targets import display_path

PROBLEM = "problem"
ADVICE = "advice"
# A `.env` with one of these suffixes documents the variables; it is fine unless it holds a token.
PLACEHOLDER_SUFFIXES = (
    "example",
    "sample",
    "template",
    "dist",
    "tmpl",
    "tpl",
    "default",
    "defaults",
)
TOKEN_NAMES = (".copera.local.toml", ".mcp.json", "claude_desktop_config.json")
TOKEN_PATHS = (".cursor/mcp.json", ".vscode/mcp.json")
SHARED_CONFIG = ".copera.toml"  # committed project defaults: never a token
HOOK_ADVICE = "add `- id: copera-secretscan` to .pre-commit-config.yaml (see the README)"
CI_ADVICE = "run `copera-secretscan scan --ci` in CI (recipes: docs/ci.md)"
# The git hook each of our hook ids needs installed
HOOK_TYPE = {
    "copera-secretscan": "pre-commit",
    "copera-secretscan-doctor": "pre-commit",
    "copera-secretscan-push": "pre-push",
    "copera-secretscan-commit-msg": "commit-msg",
}


@dataclass(frozen=True)
class Issue:
    """One finding of hygiene: its ``kind`` (a stable id), ``severity`` (problem or advice),
    the path it is about as the user would type it, what is wrong and the exact fix.
    ``ignore`` is the ``.gitignore`` line ``--fix`` appends; ``chmod`` says it sets 0600."""

    kind: str
    severity: str
    path: Optional[str]
    message: str
    fix: str
    ignore: Optional[str] = None
    chmod: Optional[str] = None

    @property
    def fixable(self) -> bool:
        return self.ignore is not None or self.chmod is not None


@dataclass(frozen=True)
class Checkup:
    """Everything one ``doctor`` run found; ``unchecked`` says what it could not look at."""

    root: Optional[str]
    issues: Tuple[Issue, ...]
    unchecked: Tuple[str, ...] = ()
    files: int = 0  # untracked files scanned for tokens

    @property
    def problems(self) -> Tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.severity == PROBLEM)


def exit_code(checkup: Checkup) -> int:
    """1 problems, else 2 when something could not be checked, else 0 (advice is healthy)."""
    if checkup.problems:
        return EXIT_FOUND
    return EXIT_ERROR if checkup.unchecked else EXIT_OK


def examine(path: str, settings: Settings, home: bool = True) -> Checkup:
    """The checkup of the repository holding ``path`` and, with ``home``, of ~/.copera.toml.

    Outside a work tree the home config is still checked, and the run says what it could not
    check (exit 2 unless a problem was found); a bare repository has no files to check at all.
    """
    issues = home_issues(hygiene.home_config()) if home else []
    try:
        repo = hygiene.repository(path)
    except hygiene.NotAWorkTree as exc:
        what = "a bare repository" if exc.bare else "not in a git work tree"
        note = f"{printable(path)}: {what}: repository checks skipped"
        return Checkup(None, tuple(issues), (note,))
    repo = _in_scope(repo, settings)
    found, problems, files = _scan(repo, settings)
    issues = [*file_issues(repo, found), *config_issues(repo), *issues, *protection(repo)]
    return Checkup(repo.root, tuple(issues), tuple(str(p) for p in problems), files)


def _in_scope(repo: hygiene.Repository, settings: Settings) -> hygiene.Repository:
    """The files that ``exclude`` (config or ``--exclude``) leaves: a test corpus of fake token
    files is excluded from doctor as from every scan."""
    excluded = settings.excluder()
    if excluded is None:
        return repo

    def kept(paths: Tuple[str, ...]) -> Tuple[str, ...]:
        return tuple(p for p in paths if not excluded(os.path.join(repo.root, p), False))

    return replace(repo, untracked=kept(repo.untracked), tracked=kept(repo.tracked))


def _scan(
    repo: hygiene.Repository, settings: Settings
) -> Tuple[Dict[str, List[Finding]], List[Problem], int]:
    """Tokens in the untracked files and in tracked placeholder files, by root path."""
    paths = [*repo.untracked, *(p for p in repo.tracked if _placeholder(p))]
    tally = pipeline.Tally(settings)
    pipeline.kept(tally, pipeline.consume(tally, hygiene.file_items(repo.root, paths)))
    result = pipeline.finish(tally, named=False)
    found: Dict[str, List[Finding]] = {}
    for finding in result.findings:
        found.setdefault(finding.root_path or "", []).append(finding)
    return found, list(result.problems), result.files


def is_token_file(path: str) -> bool:
    """Whether ``path`` (posix, from the root) is where tokens are kept: a ``.env`` (not a
    placeholder such as ``.env.example``), ``.copera.local.toml`` or an MCP client config."""
    name = posixpath.basename(path)
    if name == ".env" or (name.startswith(".env.") and not _placeholder(path)):
        return True
    return name in TOKEN_NAMES or any(
        path == end or path.endswith("/" + end) for end in TOKEN_PATHS
    )


def _placeholder(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith(".env.") and name.rsplit(".", 1)[-1].lower() in PLACEHOLDER_SUFFIXES


def file_issues(repo: hygiene.Repository, found: Dict[str, List[Finding]]) -> List[Issue]:
    """Token files and token-holding files that `git add -A` would commit, and token files
    already tracked."""
    untracked = (_untracked(repo.root, path, found.get(path, [])) for path in repo.untracked)
    issues = [issue for issue in untracked if issue is not None]
    for path in repo.tracked:
        shown = _shown(repo.root, path)
        if is_token_file(path):
            fix = f"rotate its tokens, then `git rm --cached -- {shown}`, then ignore it"
            issues.append(
                Issue("tracked-token-file", PROBLEM, shown, "a token file git tracks", fix)
            )
        elif path in found:
            fix = "rotate the token, then replace it with a placeholder"
            issues.append(Issue("tracked-token", PROBLEM, shown, _holds(found[path]), fix))
    return issues


def _untracked(root: str, path: str, found: List[Finding]) -> Optional[Issue]:
    if not found and not is_token_file(path):
        return None  # nearly every untracked file: nothing to say, nothing to compute
    shown = _shown(root, path)
    line = ignore_line(path)
    how = f"add `{line}` to .gitignore" if line else "rename it, then ignore it"
    if is_token_file(path):
        said = "a token file `git add -A` would commit" + (f"; {_holds(found)}" if found else "")
        return Issue("untracked-token-file", PROBLEM, shown, said, how, line)
    said = f"{_holds(found)}, and `git add -A` would commit it"
    if _placeholder(path):
        return Issue(
            "untracked-token", PROBLEM, shown, said, "replace the token with a placeholder"
        )
    fix = f"move the token to an environment variable, or {how}"
    return Issue("untracked-token", PROBLEM, shown, said, fix, line)


def _holds(found: Sequence[Finding]) -> str:
    first = found[0]
    return f"holds a Copera token ({first.redacted} at line {first.line})"


def _shown(root: str, path: str) -> str:
    return display_path(os.path.join(root, *path.split("/")))


def ignore_line(path: str) -> Optional[str]:
    """The ``.gitignore`` line that ignores exactly ``path`` from the root, or None when no
    line can (a newline or bytes that are not UTF-8 in the name)."""
    if any(c in path for c in "\n\r") or printable(path) != path:
        return None
    escaped = "".join("\\" + c if c in "\\*?[" else c for c in path)
    stripped = escaped.rstrip(" ")
    return "/" + stripped + "\\ " * (len(escaped) - len(stripped))


def config_issues(repo: hygiene.Repository) -> List[Issue]:
    """A committed ``.copera.toml`` (shared project defaults) that carries a ``token`` key."""
    issues = []
    for path in repo.tracked:
        if posixpath.basename(path) == SHARED_CONFIG and _has_token_key(repo.root, path):
            shown = _shown(repo.root, path)
            said = "a committed shared config with a `token` key"
            fix = "rotate the token, remove the key, keep it in .copera.local.toml (ignored)"
            issues.append(Issue("shared-config-token", PROBLEM, shown, said, fix))
    return issues


def _has_token_key(root: str, path: str) -> bool:
    try:
        with open(os.path.join(root, *path.split("/")), "rb") as handle:
            doc = toml_module().load(handle)
    except (OSError, ValueError):
        return False  # unreadable or not TOML: the Copera CLI could not read a token there either
    return _token_in(doc)


def _token_in(table: object) -> bool:
    if not isinstance(table, dict):
        return False
    return "token" in table or any(_token_in(value) for value in table.values())


def home_issues(home: Optional[hygiene.Home]) -> List[Issue]:
    """``~/.copera.toml`` readable by others, or inside a git work tree."""
    if home is None:
        return []
    shown = printable(home.path)
    issues = []
    if home.mode is not None and home.mode & 0o077:
        said = f"holds every profile's token and is readable by others (mode {home.mode:04o})"
        fix = f"chmod 600 {shown}"
        issues.append(Issue("home-config-mode", PROBLEM, shown, said, fix, chmod=home.path))
    if home.work_tree is not None:
        said = f"sits inside the git work tree {printable(home.work_tree)}"
        fix = "move it out of that repository (rotate its tokens if it was ever committed)"
        issues.append(Issue("home-config-in-repo", PROBLEM, shown, said, fix))
    return issues


def protection(repo: hygiene.Repository) -> List[Issue]:
    """Advice: our hooks configured and installed, and a CI recipe that runs us."""
    config = _shown(repo.root, hygiene.PRE_COMMIT_CONFIG)
    issues = []
    if "copera-secretscan" not in repo.hook_ids:
        said = "pre-commit does not run copera-secretscan"
        issues.append(Issue("hook-not-configured", ADVICE, config, said, HOOK_ADVICE))
    needed = dict.fromkeys(HOOK_TYPE[i] for i in repo.hook_ids if i in HOOK_TYPE)
    for kind in needed:
        if kind not in repo.installed:
            said = f"the {kind} hook is configured but not installed in git"
            fix = f"pre-commit install --hook-type {kind}"
            issues.append(Issue("hook-not-installed", ADVICE, config, said, fix))
    if not repo.ci_recipes:
        said = "no CI recipe runs copera-secretscan"
        issues.append(Issue("no-ci", ADVICE, None, said, CI_ADVICE))
    return issues
