"""Where a token may start and where its body ends, beyond the plain grammar.

The grammar: a prefix not preceded by a letter, digit or ``_``, a body of token characters.
Text met in the wild bends that in two places, both handled here so the engine stays a search.
"""

from __future__ import annotations

import re
from typing import Optional

from .rules import WORD_CHARS

_RUN = re.compile(rb"[A-Za-z0-9_-]*")  # token characters (rules.TOKEN_CHARS), for bounded runs
_ESCAPE_BEFORE = re.compile(rb"(?:\\[ntr]|%[0-9A-Fa-f]{2}|\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4})\Z")


def run_end(window: bytes, pos: int, limit: int) -> int:
    """End of the run of token characters at ``pos``, looking no further than ``limit``."""
    match = _RUN.match(window, pos, max(pos, limit))
    return match.end() if match else pos


def length_prefix(window: bytes, start: int) -> Optional[int]:
    """None if the byte before ``start`` may precede a token; else the only length it allows.

    The boundary rule: a letter, digit or ``_`` before the prefix continues a word
    (``mcp_pat_``, ``gcp_key_path``), so there is no token. Two exceptions:

    - an escape that decodes to a non-word character: ``%3Dcp_pat_…`` in a URL-encoded
      redirect, ``\\ncp_pat_…`` in a JSON string, ``\\u0022cp_pat_…``;
    - a length-prefixed string, as marshal writes short strings into a ``.pyc`` (and many binary
      formats do): the byte before is the string's length, which may be a letter's code. So a
      word byte allows exactly one token: the one whose length is that byte's value (48..122,
      which text like ``mcp_pat_x`` does not reach).
    """
    if start == 0 or window[start - 1] not in WORD_CHARS:
        return None
    if _ESCAPE_BEFORE.search(window, max(0, start - 6), start):
        return None
    return window[start - 1]
