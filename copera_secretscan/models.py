"""Small immutable records that flow through the pipeline, and the two helpers every report needs.

``fingerprint`` deliberately ignores line and column so that a finding keeps its identity when
code moves; it includes the path so that the same token pasted into a new file is a new finding.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Callable, Iterable, NamedTuple, Optional, Pattern, Tuple, TypeVar

from . import kinds

ELLIPSIS = "\u2026"
BUILTIN_PREFIXES = kinds.prefixes()
CHUNK_SIZE = 1 << 20  # what a source reads at once, and a window of the engine's search
REDACT_KEEP = 4  # body characters shown after the prefix: enough to recognise, not to use


class Origin(NamedTuple):
    """Where a piece of scanned text came from. The engine copies it into findings untouched.

    A file has two names: ``path``, the way the user named it (text and JSON show it), and its
    path from the repository root, which code scanning, CI annotations and the baseline need
    whatever the working directory was. ``rooted`` holds the second only where the two differ,
    so the common scan from the root carries nothing extra; read it through :attr:`root_path`.
    """

    path: Optional[str]  # posix display path; None for a commit message
    commit: Optional[str] = None  # 40-hex commit id for history findings
    rooted: Optional[str] = None  # posix path from the root (see root_path); None: ``path``

    @property
    def root_path(self) -> Optional[str]:
        """The path from the root of the git work tree that holds the file (outside git: from
        the scanned directory, or as named for a file argument)."""
        return self.path if self.rooted is None else self.rooted


def origin_of(path: Optional[str], rooted: Optional[str], commit: Optional[str] = None) -> Origin:
    """An Origin whose ``rooted`` is dropped when it says the same as ``path``, so that equal
    places compare equal however they were reached."""
    return Origin(path, commit, None if rooted == path else rooted)


class History(NamedTuple):
    """Where a token found in git first appeared and how far it spread (history and range scans).

    ``commits`` counts the commits that wrote the token at this path; ``token_commits`` the
    distinct commits (and tags) that carry the token anywhere, so one commit that put it in a
    file and in its message counts once. ``present_at_head`` is None for commit messages, which
    have no HEAD version (and when HEAD could not be read). ``tag`` names the annotated tag
    whose message holds the token; ``refs`` the refs that still reach it.
    """

    author: str
    date: str  # author date of the first commit, ISO 8601
    commits: int
    present_at_head: Optional[bool]
    token_commits: int = 0  # 0: not counted
    tag: Optional[str] = None
    # The refs that still reach the token (``main``, ``v1.2``, ``origin/main``, ``stash@{0}``):
    # what a history rewrite must cover. None: not looked up.
    refs: Optional[Tuple[str, ...]] = None


LIVE = "live"  # Copera accepted the token: revoke it first
INVALID = "invalid"  # Copera refused it (revoked, expired or malformed)
UNKNOWN = "unknown"  # no answer that says either (an error, a timeout, rate limited)
VERIFICATIONS = (LIVE, INVALID, UNKNOWN)
_FINDING_IDENTITY = 8  # rule, origin, line, column, end line, end column, secret, prefix
_UNSHOWN = ("line_text", "prev_line_text", "history")  # left out of a finding's repr

Record = TypeVar("Record", bound=type)


def compared_by(fields: int) -> Callable[[Record], Record]:
    """A class decorator: a named tuple whose identity is its first ``fields`` fields
    (negative: all but the last ones), as ``compare=False`` said of a dataclass's others."""

    def eq(self: Tuple[Any, ...], other: object) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self[:fields] == other[:fields]

    def ne(self: Tuple[Any, ...], other: object) -> Any:
        equal = eq(self, other)
        return equal if equal is NotImplemented else not equal

    def hashed(self: Tuple[Any, ...]) -> int:
        return hash(self[:fields])

    def decorate(cls: Record) -> Record:
        cls.__eq__, cls.__ne__, cls.__hash__ = eq, ne, hashed  # type: ignore[assignment]
        return cls

    return decorate


@compared_by(_FINDING_IDENTITY)
class Finding(NamedTuple):
    """A token found. Equal findings are the same token at the same place: what a report says
    about it (its line, history, disguise, verdict) is not part of its identity."""

    rule_id: str
    origin: Origin
    line: int  # 1-based, in the decoded text; 0 for a token in the path itself (names.py)
    column: int  # 1-based, in characters
    end_line: int
    end_column: int  # 1-based column just past the last character of the token
    secret: str
    prefix: str  # the rule prefix the token starts with, so redaction never guesses
    # Not part of its identity (see __eq__), from here on.
    line_text: str = ""  # the token's line, clipped
    prev_line_text: str = ""
    history: Optional[History] = None
    # How the token was disguised, outermost first (``("base64", "json-escape")``); () plain.
    encoding: Tuple[str, ...] = ()
    # What Copera said of the token under ``scan --verify``: one of VERIFICATIONS; None: not asked.
    verification: Optional[str] = None
    # Why, in words that never hold the token ("HTTP 401", "timed out"); "" when not asked.
    verification_detail: str = ""

    def __repr__(self) -> str:
        """Without the lines and the history (as ``repr=False`` said of a dataclass's): long,
        and the lines hold the token once more."""
        shown = ", ".join(
            f"{name}={value!r}" for name, value in zip(self._fields, self) if name not in _UNSHOWN
        )
        return f"Finding({shown})"

    @property
    def path(self) -> Optional[str]:
        return self.origin.path

    @property
    def root_path(self) -> Optional[str]:
        return self.origin.root_path

    @property
    def in_name(self) -> bool:
        """The token is in the file or directory name itself (line 0), not in any content."""
        return self.line == 0

    @property
    def location(self) -> str:
        """What holds the token: ``content`` of a file, a ``path`` (name), or a ``message``."""
        if self.origin.path is None:
            return "message"
        return "path" if self.in_name else "content"

    @property
    def commit(self) -> Optional[str]:
        return self.origin.commit

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.rule_id, self.origin.root_path, self.secret, self.prefix)

    @property
    def redacted(self) -> str:
        return redact(self.secret, self.prefix)

    def sort_key(self) -> Tuple[str, str, int, int]:
        return (self.origin.path or "", self.origin.commit or "", self.line, self.column)


class Problem(NamedTuple):
    """One input that could not be scanned completely. Any problem makes the scan incomplete."""

    path: Optional[str]  # as the user named it, like Origin.path
    message: str
    rooted: Optional[str] = None  # from the root, like Origin.rooted; None: ``path``

    def __str__(self) -> str:
        """``path: message``, the one-line form every output uses; a git failure has no path."""
        return self.message if self.path is None else f"{self.path}: {self.message}"

    @property
    def root_path(self) -> Optional[str]:
        """The path CI annotations name: from the root, as for findings."""
        return self.path if self.rooted is None else self.rooted


def problem_at(origin: Origin, message: str) -> Problem:
    """A Problem with the input it is about, named both ways its findings would be."""
    return Problem(origin.path, message, origin.rooted)


# Where the scanned content sits, which decides the advice a report gives: a token only staged
# needs no history rewrite, one in commits about to be pushed (or just pushed by this pipeline)
# can still be dropped by rewriting those commits, one in history is public to every clone.
WORKTREE = "worktree"  # files on disk, committed or not
STAGED = "staged"  # the index, or the message of the commit being made: not in history yet
PUSHED = "pushed"  # the commits a push sends, or the commits a CI pipeline brings
HISTORY = "history"  # commits already in history (--history, --git RANGE)
CONTEXTS = (WORKTREE, STAGED, PUSHED, HISTORY)


class Unrotated(NamedTuple):
    """A token a baseline entry marked "real leak, to rotate" still hides: the scan reminds of
    it, and fails on it when asked (``--fail-on-unrotated``), for the token is still live."""

    rule_id: str
    where: str  # path:line as shown, or "the message of commit ..."
    redacted: str
    decided: Optional[str]  # YYYY-MM-DD, None for an entry audited before dates were kept
    reason: Optional[str]


@compared_by(-1)  # not ``rules``
class ScanResult(NamedTuple):
    """What a scan found and read. Two results are equal whatever rules each names."""

    findings: Tuple[Finding, ...] = ()
    problems: Tuple[Problem, ...] = ()
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    suppressed: int = 0  # findings dropped by allow comments or the baseline
    warnings: Tuple[str, ...] = ()  # things worth saying that do not change the exit code
    context: str = WORKTREE  # one of CONTEXTS
    scanned: str = ""  # what a git scan covered and why, e.g. a CI range and its event
    unrotated: Tuple[Unrotated, ...] = ()  # also in warnings, as reminders
    # The rules the scan used, custom ones included; () stands for the built-in rules, which
    # report.rules_of resolves (models know no engine type, so the field is loosely typed).
    rules: Tuple[Any, ...] = ()


Reader = Callable[[int], bytes]  # read(n): up to n bytes, b"" only at the end


class Input(NamedTuple):
    """One thing a source hands the pipeline to scan: whole ``data`` when it is small, or a
    stream ``read`` when it is not (a big file, a big blob), never both.

    A stream is valid only until the consumer asks its source for the next item: sources are
    generators that keep the file or pipe open while suspended on the ``yield``, and close it
    when resumed. ``about`` is what the source wants to know back with the findings (the blob
    id, the message's commit); ``file`` says whether the input counts as a file in the scan's
    statistics (a commit message in history does not).
    """

    origin: Origin
    data: Optional[bytes] = None
    read: Optional[Reader] = None
    about: object = None
    file: bool = True


class Name(NamedTuple):
    """A path git stores (or will), to be searched for tokens in its names, not its content.

    ``shown`` turns a leading part of ``path`` into the path a report shows for it.
    """

    path: str
    shown: Callable[[str], str] = str


class FileScan(NamedTuple):
    """What scanning one input gave: its findings, the problem that left it incomplete, if any,
    and its size. ``files`` lets a worker sum up a batch's clean files in one record. A tuple:
    there is one per input, and the result of a worker crosses a process boundary."""

    findings: Tuple[Finding, ...]
    problem: Optional[Problem]
    size: int
    files: int = 1


def fingerprint(rule_id: str, path: Optional[str], secret: str, prefix: str = "") -> str:
    """A stable id for (rule, path, token): no line number, and the token only as a hash.

    The path is taken redacted (as every report prints it), so a token in a file name gives the
    same fingerprint whether or not ``--show-secrets`` revealed it.
    """
    import hashlib  # deferred: only reports with fingerprints need it (~4 ms of start-up)

    shown = mask_tokens(path, (prefix, *BUILTIN_PREFIXES)) if path else ""
    material = "\0".join((rule_id, shown, secret)).encode("utf-8", "surrogateescape")
    return hashlib.sha256(material).hexdigest()[:32]


def redact(secret: str, prefix: str = "") -> str:
    """``cp_pat_Ab3d…``: the prefix and a few body characters, never the whole token."""
    if not prefix or not secret.startswith(prefix):
        prefix = ""
    body = secret[len(prefix) :]
    keep = min(REDACT_KEEP, max(len(body) // 4, 0))
    return prefix + body[:keep] + ELLIPSIS


def mask_tokens(text: str, prefixes: Iterable[str]) -> str:
    """``text`` with every run that starts like a token redacted, not only the one reported.

    A line may hold a second token (another finding, or one the baseline accepted); showing the
    line to explain one finding must not print the other in full. A run needs more body
    characters than a redacted token keeps (REDACT_KEEP), so text already redacted is left as
    it is, however often it passes through here.
    """
    pattern = _token_runs(tuple(sorted(set(prefixes), key=len, reverse=True)))
    if pattern is None:
        return text
    return pattern.sub(_hide, text)


@functools.lru_cache(maxsize=32)
def _token_runs(prefixes: Tuple[str, ...]) -> Optional[Pattern[str]]:
    # No boundary check: the engine also reports tokens after an escape (`\ncp_…`, `%3Dcp_…`)
    # or a .pyc length byte, and masking `mcp_pat_…` too is harmless. `+/=` cover base64 bodies
    # of custom rules.
    if not any(prefixes):
        return None
    alternatives = "|".join(f"({re.escape(prefix)})" for prefix in prefixes if prefix)
    return re.compile(f"(?:{alternatives})[A-Za-z0-9_+/=-]{{{REDACT_KEEP + 1},}}")


def _hide(match: re.Match[str]) -> str:
    prefix = next(group for group in match.groups() if group)
    return redact(match.group(0), prefix)


def printable(path: str) -> str:
    """``path`` as one line of valid, inert Unicode, the way git quotes odd names (``\\n``,
    ``\\xff``).

    ``os`` returns undecodable bytes as lone surrogates, which crash every writer (text, JSON,
    SARIF) when encoded; a newline in a name would split a one-line error in two; and a control
    character (an escape sequence, a C1 control, a right-to-left override) would act on the
    reader's terminal instead of being read. Only the display form is escaped; the file is opened
    by its real path.
    """
    if path.isprintable():  # nearly every path: one C-level check
        return path
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def inert(text: str) -> str:
    """Scanned text as it may reach a terminal: every control character (escape sequences,
    carriage returns, C1 controls, bidirectional overrides) shown as an escape, never obeyed;
    a tab is just a space. Colour codes in our output are ours alone."""
    return printable(text.replace("\t", " "))


def _escaped(char: str) -> str:
    """``\\n``, ``\\x1b``, ``\\u202e``: a character that must not reach a terminal raw."""
    code = ord(char)
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


_NAMED_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
