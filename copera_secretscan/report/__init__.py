"""One writer per report format, chosen from a literal dict. Every writer redacts by default.

A writer is a plain function ``(result, options) -> str``; adding a format is one module and one
line in :data:`WRITERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

from ..models import Finding, ScanResult


@dataclass(frozen=True)
class ReportOptions:
    show_secrets: bool = False
    color: bool = False
    quiet: bool = False


Writer = Callable[[ScanResult, ReportOptions], str]


def shown_secret(finding: Finding, options: ReportOptions) -> str:
    """The token as a report may print it: redacted unless the user asked for it whole."""
    return finding.secret if options.show_secrets else finding.redacted


def _writers() -> Dict[str, Writer]:
    from . import github, gitlab, json_report, junit, sarif, text

    return {
        "text": text.render,
        "json": json_report.render,
        "sarif": sarif.render,
        "junit": junit.render,
        "github": github.render,
        "gitlab": gitlab.render,
    }


def writer(fmt: str) -> Writer:
    return _writers()[fmt]


FORMATS = ("text", "json", "sarif", "junit", "github", "gitlab")
