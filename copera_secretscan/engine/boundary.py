"""Where a token may start and where its body ends, beyond the plain grammar.

The grammar: a prefix not preceded by a letter, digit or ``_``, a body of token characters.
Text met in the wild bends that in two places, both handled here so the engine stays a search.
"""

from __future__ import annotations

import re

from .rules import WORD_CHARS

TYPE_CHECKING = False  # mypy treats this name as true; at run time typing is never imported
if TYPE_CHECKING:
    from typing import Optional

_RUN = re.compile(rb"[A-Za-z0-9_-]*")  # token characters (rules.TOKEN_CHARS), for bounded runs
# An escape right before the prefix, with the code it stands for in one group: hex (`%3D`,
# `=3D` in quoted-printable, `\x3d`, `\u0022`) or octal (`\042`); or a sequence that always
# means a separator: `\n`, `\t`, `\r`, `\0`, and a terminal colour sequence (ESC `[…m`), raw or
# written as escape text, whose final `m` ends the sequence and does not continue a word.
_ESCAPE_BEFORE = re.compile(
    rb"(?:(?:%|=|\\x)([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})|\\([0-3][0-7]{2})"
    rb"|\\[ntr0]|(?:\x1b|\\x1b|\\u001b|\\033|\\e|\\E)\[[0-9;]{0,12}m)\Z"
)
_ESCAPE_REACH = 22  # bytes the longest escape above spans: `\u001b[38;5;208;1m`


def run_end(window: bytes, pos: int, limit: int) -> int:
    """End of the run of token characters at ``pos``, looking no further than ``limit``."""
    match = _RUN.match(window, pos, max(pos, limit))
    return match.end() if match else pos


def length_prefix(window: bytes, start: int) -> Optional[int]:
    """None if the byte before ``start`` may precede a token; else the only length it allows.

    The boundary rule: a letter, digit or ``_`` before the prefix continues a word
    (``mcp_pat_``, ``gcp_key_path``), so there is no token. Two exceptions:

    - an escape that decodes to a non-word character: ``%3Dcp_pat_…`` in a URL-encoded
      redirect, ``\\ncp_pat_…`` in a JSON string, ``\\u0022cp_pat_…``, and a terminal colour
      sequence, raw or written as escape text (``\\x1b[32mcp_oat_…`` in a log,
      ``\\u001b[0m`` in JSON). An escape of a word character (``%41``) continues the word;
    - a length-prefixed string, as marshal writes short strings into a ``.pyc`` (and many binary
      formats do): the byte before is the string's length, which may be a letter's code. So a
      word byte allows exactly one token: the one whose length is that byte's value (48..122,
      which text like ``mcp_pat_x`` does not reach).
    """
    if start == 0 or window[start - 1] not in WORD_CHARS:
        return None
    if escape_is_separator(window, start):
        return None
    return window[start - 1]


def escape_is_separator(window: bytes, start: int) -> bool:
    """Does an escape that stands for a non-word character end right before ``start``?"""
    match = _ESCAPE_BEFORE.search(window, max(0, start - _ESCAPE_REACH), start)
    if match is None:
        return False
    hex_code, unicode_code, octal_code = match.groups()
    if hex_code or unicode_code:
        return int(hex_code or unicode_code, 16) not in WORD_CHARS
    return octal_code is None or int(octal_code, 8) not in WORD_CHARS
