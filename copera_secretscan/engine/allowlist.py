"""What the user has said is not a leak: inline allow comments (and, later, the baseline).

Markers are matched as plain text anywhere on the line, so every comment syntax works
(``#``, ``//``, ``<!-- -->``, ``--``) and so do formats without comments, where the marker can
sit in a neighbouring key. ``allow`` must not be read into ``allow-next-line``: a marker meant
for the next line does not also excuse a token on its own line.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Sequence, Tuple

from ..models import Finding

_SAME_LINE = re.compile(r"copera-secretscan:\s*allow(?!-next-line)")
_NEXT_LINE = re.compile(r"copera-secretscan:\s*allow-next-line")


def is_allowed_inline(finding: Finding, extra_markers: Sequence[str] = ()) -> bool:
    """True when the token's line, or the line before it, carries an allow marker."""
    line = finding.line_text
    if _SAME_LINE.search(line) or any(marker in line for marker in extra_markers):
        return True
    return _NEXT_LINE.search(finding.prev_line_text) is not None


def drop_inline_allowed(
    findings: Iterable[Finding], extra_markers: Sequence[str] = ()
) -> Tuple[List[Finding], int]:
    """(findings that stand, how many an allow comment suppressed)."""
    findings = list(findings)
    kept = [f for f in findings if not is_allowed_inline(f, extra_markers)]
    return kept, len(findings) - len(kept)
