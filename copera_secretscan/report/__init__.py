"""One writer per report format, chosen from a literal dict. Every writer redacts by default.

A writer is a plain function ``(result, options) -> str``; adding a format is one module and one
line in :data:`WRITERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

from ..models import Finding, ScanResult
from ..rules import BUILTIN_RULES, Rule, rule_by_id


@dataclass(frozen=True)
class ReportOptions:
    show_secrets: bool = False
    color: bool = False
    quiet: bool = False


Writer = Callable[[ScanResult, ReportOptions], str]


def kind_name(rule_id: str, rules: Tuple[Rule, ...] = BUILTIN_RULES) -> str:
    """The token kind as a person says it: the rule's name (a custom rule's description)."""
    rule = rule_by_id(rules, rule_id)
    return rule.name if rule else f"Token matching custom rule {rule_id}"


def message_kind(finding: Finding) -> str:
    """What holds a finding without a path: a commit message, or an annotated tag's message."""
    tag = finding.history.tag if finding.history is not None else None
    return f"tag {tag} message" if tag else "commit message"


def shown_secret(finding: Finding, options: ReportOptions) -> str:
    """The token as a report may print it: redacted unless the user asked for it whole."""
    return finding.secret if options.show_secrets else finding.redacted


_MODULES: Dict[str, str] = {  # format -> the module of this package whose render() writes it
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "junit": "junit",
    "github": "github",
    "gitlab": "gitlab",
}


def writer(fmt: str) -> Writer:
    """The format's writer, importing its module alone: junit's XML imports cost ~11 ms, which
    every plain text scan (and every hook run that finds a token) would otherwise pay."""
    from importlib import import_module

    render: Writer = import_module(f"{__name__}.{_MODULES[fmt]}").render
    return render


FORMATS = ("text", "json", "sarif", "junit", "github", "gitlab")
