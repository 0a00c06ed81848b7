"""One writer per report format, chosen from a literal dict. Every writer redacts by default.

A writer is a plain function ``(result, options) -> str``; adding a format is one module and one
line in :data:`_MODULES`. :func:`writer` hands every one of them a result whose paths and error
messages are already redacted (a token in a file name is a leak too), and masks whatever
token-shaped run is still left in the text it returns, so no format can print a whole token
unless ``--show-secrets`` asked for it.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Dict, NamedTuple, Optional, Tuple

from ..console import files_scanned, found_line, plural, under_pre_commit
from ..engine.rules import BUILTIN_RULES, Rule, rule_by_id
from ..models import (
    HISTORY,
    INVALID,
    LIVE,
    PUSHED,
    VERIFICATIONS,
    Finding,
    Problem,
    ScanResult,
    mask_tokens,
)


class ReportOptions(NamedTuple):
    show_secrets: bool = False
    color: bool = False
    quiet: bool = False


Writer = Callable[[ScanResult, ReportOptions], str]


def terminal_options(
    result: ScanResult, quiet: bool, show_secrets: bool = False, color: bool = False
) -> ReportOptions:
    """The options of a report written where the user reads it: a clean pre-commit batch says
    nothing (pre-commit shows a hook's output only when it fails), an incomplete one still
    says so."""
    return ReportOptions(
        show_secrets=show_secrets,
        color=color,
        quiet=quiet or (under_pre_commit() and not result.problems),
    )


def kind_name(rule_id: str, rules: Tuple[Rule, ...] = BUILTIN_RULES) -> str:
    """The token kind as a person says it: the rule's name (a custom rule's description)."""
    rule = rule_by_id(rules, rule_id)
    return rule.name if rule else f"Token matching custom rule {rule_id}"


def message_kind(finding: Finding) -> str:
    """What holds a finding without a path: a commit message, or an annotated tag's message."""
    tag = finding.history.tag if finding.history is not None else None
    return f"tag {tag} message" if tag else "commit message"


def disguise(finding: Finding) -> str:
    """`` (base64 → base64)``: the decodings that found a token, outermost first; "" if plain."""
    return f" ({' → '.join(finding.encoding)})" if finding.encoding else ""


def shown_secret(finding: Finding, options: ReportOptions) -> str:
    """The token as a report may print it: redacted unless the user asked for it whole."""
    return finding.secret if options.show_secrets else finding.redacted


_VERDICTS = {LIVE: "live: revoke it first", INVALID: "invalid: Copera refused it"}


def verdict(finding: Finding) -> str:
    """What ``scan --verify`` learnt of the token, as every format that shows a message says
    it (``live: revoke it first``, ``unknown: timed out``); "" when nobody asked."""
    if finding.verification is None:
        return ""
    return _VERDICTS.get(finding.verification) or f"unknown: {finding.verification_detail}"


def verdict_tally(findings: Tuple[Finding, ...]) -> str:
    """``Copera says: 1 live, 2 invalid.``, counting tokens; "" when nobody asked."""
    said = {(f.rule_id, f.secret): f.verification for f in findings if f.verification}
    counts = Counter(said.values())
    parts = [f"{counts[name]} {name}" for name in VERIFICATIONS if counts[name]]
    return f"Copera says: {', '.join(parts)}." if parts else ""


def token_count(findings: Tuple[Finding, ...]) -> int:
    """Distinct tokens: what there is to revoke, however many places hold each one."""
    return len({(f.rule_id, f.secret) for f in findings})


def place_of(finding: Finding) -> Tuple[Optional[str], Optional[str]]:
    """Where a token sits as a person counts places: a file (in whichever commits), or one
    commit's (or tag's) message. JUnit has one test case per place."""
    return (finding.root_path, None) if finding.root_path is not None else (None, finding.commit)


def place_count(findings: Tuple[Finding, ...]) -> int:
    return len({place_of(f) for f in findings})


def file_unit(result: ScanResult) -> str:
    """A scan of commits counts each version of a path; a scan of files or the index, files."""
    return "file version" if result.context in (HISTORY, PUSHED) else "file"


def scanned(result: ScanResult) -> str:
    """``8,240 file versions scanned, 2 allowed``."""
    return files_scanned(result.files, result.suppressed, file_unit(result))


def found_summary(result: ScanResult) -> str:
    """``Found 2 Copera tokens in 3 places: 2 Copera Personal Access Tokens (… scanned).``: the
    line every format that states counts prints (text, history, JUnit, GitHub's log)."""
    distinct = {(f.rule_id, f.secret) for f in result.findings}
    kinds = Counter(kind_name(rule_id, rules_of(result)) for rule_id, _ in distinct)
    detail = ", ".join(plural(count, name, _many(name)) for name, count in sorted(kinds.items()))
    said = scanned(result)
    if result.problems:
        said += f", {plural(len(result.problems), 'error')}: scan incomplete, see above"
    return found_line(len(distinct), place_count(result.findings), said, detail)


def _many(kind: str) -> str:
    """``Tokens matching custom rule x``: a custom rule's name is plural in its first word."""
    head, _, rest = kind.partition(" matching ")
    return f"{head}s matching {rest}" if rest else kind + "s"


_MODULES: Dict[str, str] = {  # format -> the module of this package whose render() writes it
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "junit": "junit",
    "github": "github",
    "gitlab": "gitlab",
}


def writer(fmt: str) -> Writer:
    """The format's writer, importing its module alone (junit's XML imports would otherwise
    weigh on every plain text scan), wrapped so that what it writes is redacted."""
    from importlib import import_module

    render: Writer = import_module(f"{__name__}.{_MODULES[fmt]}").render

    def write(result: ScanResult, options: ReportOptions) -> str:
        if options.show_secrets:
            return render(result, options)
        text = render(redacted(result), options)
        return mask_tokens(text, prefixes_of(rules_of(result)))

    return write


def rules_of(result: ScanResult) -> Tuple[Rule, ...]:
    """The rules ``result`` was scanned with: a result that names none used the built-in ones."""
    return result.rules or BUILTIN_RULES


def prefixes_of(rules: Tuple[Rule, ...]) -> Tuple[str, ...]:
    return tuple(rule.prefix for rule in rules)


def redacted(result: ScanResult) -> ScanResult:
    """``result`` with tokens masked in every path, error and warning it will print."""
    prefixes = prefixes_of(rules_of(result))

    def mask(text: str) -> str:
        return mask_tokens(text, prefixes)

    def finding(found: Finding) -> Finding:
        origin = found.origin
        if _unchanged(origin.path, mask) and _unchanged(origin.rooted, mask):
            return found
        rooted = None if origin.rooted is None else mask(origin.rooted)
        return found._replace(
            origin=origin._replace(
                path=None if origin.path is None else mask(origin.path), rooted=rooted
            ),
        )

    def problem(found: Problem) -> Problem:
        rooted = None if found.rooted is None else mask(found.rooted)
        return Problem(
            None if found.path is None else mask(found.path), mask(found.message), rooted
        )

    return result._replace(
        findings=tuple(finding(f) for f in result.findings),
        problems=tuple(problem(p) for p in result.problems),
        warnings=tuple(mask(w) for w in result.warnings),
    )


def _unchanged(path: Optional[str], mask: Callable[[str], str]) -> bool:
    return path is None or mask(path) == path


FORMATS = tuple(_MODULES)  # the choices of --format and --report, in this order
