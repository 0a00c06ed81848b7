"""Git's ignore rules, compiled by ``pathspec`` and applied the way git applies them.

Git decides one path at a time: the deepest ``.gitignore`` with a pattern matching the path
itself wins over shallower ones, every ``.gitignore`` wins over ``.git/info/exclude``, which wins
over ``core.excludesFile``; inside one file the last matching pattern wins. A pattern never
matches a path through one of its parent directories: the walker prunes an ignored directory
instead, which is also why a file under an ignored directory cannot be re-included.

``pathspec``'s gitignore regexes match a directory's descendants too (group ``ps_d`` marks the
slash after the matched directory); :func:`_self_match` keeps only matches of the path itself.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, NamedTuple, Optional, Sequence, Tuple

from .readfile import read_regular

_DIR_MARK = "ps_d"  # pathspec's group for "the slash after a matched directory"
_ANY_DEPTH = "^(?:.+/)?"  # how pathspec starts a pattern without a slash: "at any level"
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
_UTF8_BOM = "\ufeff"


class Rules(NamedTuple):
    """The patterns of one ignore file; ``base`` is its directory relative to the root.

    A pattern without a slash (``*.log``, ``node_modules/``) matches a name at any depth, so
    it is tried on the entry's name alone; the others on the path below ``base``. Each group
    also has one union regex: a path that no pattern can match (nearly every path) costs one
    regex call per ignore file, not one per pattern.
    """

    base: str  # "" for the root, else "a/b/" (with the trailing slash)
    patterns: Tuple[Tuple[Any, bool], ...]  # (pathspec pattern, by name), last line first
    names: Any  # union of the name patterns (a compiled regex), or None
    paths: Any  # union of the path patterns, matched at ``len(base)``, or None

    def verdict(self, rel: str, name: str, is_dir: bool) -> Optional[bool]:
        """True: ignored, False: re-included (``!``), None: no pattern here matches."""
        below = rel[len(self.base) :]
        for pattern, by_name in self.patterns:
            if _self_match(pattern, name if by_name else below, is_dir):
                return bool(pattern.include)
        return None

    def might_match(self, rel: str, name: str, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        if self.names is not None and self.names.match(name + suffix):
            return True
        if self.paths is None:
            return False
        start = len(self.base)
        return bool(
            self.paths.match(rel + suffix, start) or (is_dir and self.paths.match(rel, start))
        )


def compile_rules(lines: Iterable[str], base: str = "") -> Optional[Rules]:
    """Rules from ignore-file lines, or None when no line is a pattern.

    Each line compiles on its own: git skips a malformed line (a lone ``!``, a bad range) and
    keeps the others, so one bad line must not cost the whole file or crash the walk.
    """
    lines = list(lines)
    if not any(_may_be_pattern(line) for line in lines):
        return None  # git's own info/exclude is all comments: pathspec need not load for it
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern  # only when needed

    compiled: List[Tuple[Any, bool]] = []
    for line in lines:
        try:
            pattern = GitIgnoreSpecPattern(_as_git_means(line.rstrip("\r")))
        except (ValueError, re.error):  # pathspec's GitIgnorePatternError, a range like [z-a]
            continue  # git skips a line it cannot use, and so do we
        if pattern.include is not None and pattern.regex is not None:
            compiled.append((pattern, _by_name(line, pattern.regex.pattern)))
    if not compiled:
        return None
    names = [p.regex.pattern[len(_ANY_DEPTH) :] for p, by_name in compiled if by_name]
    paths = [_anchored(p.regex.pattern) for p, by_name in compiled if not by_name]
    return Rules(base, tuple(reversed(compiled)), _union(names), _union(paths))


def _may_be_pattern(line: str) -> bool:
    """False only for what git reads as no pattern at all: a comment, or a blank line (git drops
    unescaped trailing spaces, so a line of spaces is blank too)."""
    body = line.rstrip("\r").rstrip(" ")
    return bool(body) and not body.startswith("#")


def _by_name(line: str, regex: str) -> bool:
    """Git's rule: a pattern with no slash but a trailing one matches names at any depth."""
    body = line.strip().lstrip("!").rstrip("/")
    return "/" not in body and regex.startswith(_ANY_DEPTH)


def _anchored(regex: str) -> str:
    """``regex`` (used with ``search``) as an equivalent for ``match``."""
    return regex[1:] if regex.startswith("^") else "(?s:.*?)" + regex


def _union(regexes: List[str]) -> Any:
    if not regexes:
        return None
    return re.compile("|".join(f"(?:{_NAMED_GROUP.sub('(?:', r)})" for r in regexes))


def _as_git_means(line: str) -> str:
    """Work around one pathspec quirk: it reads ``dir/**/`` as ``dir/``, ignoring ``dir`` itself.

    Git matches only the directories *inside* ``dir`` (and no files). ``dir/**/*/`` says exactly
    that in a form pathspec translates faithfully (checked against ``git ls-files``).
    """
    stripped = line.rstrip(" ")
    if stripped.endswith("/**/") and not stripped.endswith("\\/**/") and stripped != "/**/":
        return stripped[:-1] + "/*/"
    return line


def read_rules(path: str, base: str = "", follow_links: bool = True) -> Optional[Rules]:
    """Rules from an ignore file; a missing or unreadable file has none (git skips it too).

    ``follow_links=False`` for a ``.gitignore`` in the tree: git (2.32 on) ignores one that is a
    symbolic link, while ``info/exclude`` and ``core.excludesFile`` are followed. Only a regular
    file has rules: git stalls on a FIFO, and a walk must never hang.
    """
    try:
        data = read_regular(path, follow_links)
    except OSError:  # ELOOP: a link we were told not to follow
        return None
    if data is None:
        return None
    text = data.decode("utf-8", "surrogateescape")
    return compile_rules(text.lstrip(_UTF8_BOM).split("\n"), base)


def is_ignored(stack: Sequence[Rules], rel: str, name: str, is_dir: bool) -> bool:
    """What the first rules in ``stack`` (highest precedence first) matching ``rel`` say."""
    for rules in stack:
        if rules.might_match(rel, name, is_dir):  # nearly always False: one regex call
            verdict = rules.verdict(rel, name, is_dir)
            if verdict is not None:
                return verdict
    return False


def _self_match(pattern: Any, rel: str, is_dir: bool) -> bool:
    """Does ``pattern`` match ``rel`` itself, not merely one of its parent directories?"""
    match = pattern.regex.search(rel)
    if match is not None and match.groupdict().get(_DIR_MARK) is None:
        return True
    if not is_dir:
        return False
    # A directory-only pattern (``build/``) needs the trailing slash, right at the end. Search
    # again from the last component too: unanchored patterns (``*/``) would otherwise stop at
    # the first slash; ``^``-anchored ones cannot match from there, so this adds no false hit.
    probe = rel + "/"
    for start in (0, rel.rfind("/") + 1):
        match = pattern.regex.search(probe, start)
        if match is not None and match.groupdict().get(_DIR_MARK) is not None:  # noqa: SIM102
            if match.end(_DIR_MARK) == len(probe):  # the slash after ``rel`` itself
                return True
    return False
