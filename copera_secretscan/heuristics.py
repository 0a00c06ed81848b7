"""Pure predicates that tell a real token body from text that only looks like one.

A hook that cries wolf gets uninstalled, and a Copera token has a literal prefix to anchor on,
so the remaining noise is documentation and code *about* tokens: placeholders
(``cp_pat_your_token_here``), masks (``cp_key_xxxxxxxxxxxxxxxx``), sequences
(``cp_pat_1234567890abcdef``) and identifiers (``cp_pat_validation_regex_pattern``). Real bodies
are random, and each predicate below is chosen so that a random body of 16+ characters almost
never trips it (see tests/test_heuristics.py, which measures that rate on generated tokens).
"""

from __future__ import annotations

import re
from typing import Iterable, List, Optional

# Words that documentation and examples put where a token goes. Substring matches only count
# for words of four letters or more, so that a random body rarely contains one by chance.
PLACEHOLDER_WORDS = frozenset(
    [
        "your",
        "my",
        "the",
        "here",
        "token",
        "tokens",
        "key",
        "keys",
        "secret",
        "secrets",
        "example",
        "examples",
        "sample",
        "samples",
        "dummy",
        "fake",
        "test",
        "testing",
        "tests",
        "placeholder",
        "placeholders",
        "redacted",
        "replace",
        "replaceme",
        "insert",
        "changeme",
        "change",
        "value",
        "values",
        "xxx",
        "todo",
        "fixme",
        "foo",
        "bar",
        "baz",
        "qux",
        "abc",
        "mock",
        "mocked",
        "demo",
        "personal",
        "access",
        "api",
        "integration",
        "oauth",
        "mcp",
        "copera",
        "bearer",
        "goes",
        "paste",
        "put",
        "enter",
        "generated",
        "random",
        "string",
        "real",
        "actual",
        "valid",
        "invalid",
        "expired",
        "revoked",
        "none",
        "null",
        "undefined",
        "default",
        "config",
        "env",
        "environment",
        "variable",
        "var",
        "pat",
        "oat",
    ]
)

_SEGMENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_MASK_RUN = re.compile(r"([xX*#0._-])\1{4,}")
_VOWELS = frozenset("aeiouyAEIOUY")
_TEMPLATE_AFTER = ("}", "$", "%", ">", "{", "]]")


def is_one_char_run(body: str) -> bool:
    """``xxxxxxxxxxxxxxxx``, ``0000000000000000``."""
    return len(set(body)) <= 1


def is_mask(body: str) -> bool:
    """A run of five or more mask characters: ``Ab3dxxxxxxxxxxxx``, ``abcd_____``."""
    return _MASK_RUN.search(body) is not None


def is_sequence(body: str) -> bool:
    """Counting or keyboard-walking text: ``1234567890abcdef``, ``abcdefghijklmnop``, ``abababab``.

    Half the neighbouring pairs stepping by -1, 0 or +1 is vanishingly rare in random text
    (about 5% of pairs do), and so is a body that repeats a block of four characters or less.
    """
    if len(body) < 2:
        return True
    steps = sum(1 for a, b in zip(body, body[1:]) if abs(ord(a) - ord(b)) <= 1)
    if steps * 2 >= len(body) - 1:
        return True
    return any(_is_periodic(body, period) for period in range(1, 5))


def _is_periodic(body: str, period: int) -> bool:
    return len(body) >= 2 * period and all(
        body[i] == body[i - period] for i in range(period, len(body))
    )


def segments(body: str) -> List[str]:
    """Split on ``_``/``-``, camelCase and digits: ``yourTokenHere2`` → your Token Here 2."""
    return [seg for part in re.split(r"[_-]+", body) for seg in _SEGMENT.findall(part)]


def is_placeholder(body: str, extra_words: Iterable[str] = ()) -> bool:
    """Made of words an author types where a token goes: ``your_token_here``, ``TEST1234``."""
    words = PLACEHOLDER_WORDS.union(word.lower() for word in extra_words)
    parts = [part.lower() for part in re.split(r"[_-]+", body) if part]
    if any(part in words for part in parts):
        return True
    lowered = body.lower()
    covered = [False] * len(lowered)
    for word in words:
        if len(word) < 4:
            continue
        start = lowered.find(word)
        while start >= 0:
            covered[start : start + len(word)] = [True] * len(word)
            start = lowered.find(word, start + 1)
    return sum(covered) * 5 >= len(lowered) * 2  # two fifths of the body is placeholder words


def is_word_like(body: str) -> bool:
    """An identifier: ``validation_regex_pattern``, ``TokenPrefixHelperForTests``.

    Every segment is alphabetic, pronounceable (has a vowel) and word-sized, and the segments
    are long on average; random mixed-case text splits into short, vowel-less crumbs.
    """
    segs = segments(body)
    if not segs or any(not seg.isalpha() for seg in segs):
        return False
    if any(len(seg) > 14 or not _VOWELS.intersection(seg) for seg in segs if len(seg) > 2):
        return False
    letters = sum(len(seg) for seg in segs)
    return letters >= 3 * len(segs) and letters * 5 >= len(body) * 4


def is_template(body: str, after: str = "") -> bool:
    """``cp_pat_{{ token }}``-style: the body runs straight into template syntax."""
    return (body.isupper() and "_" in body) or after.startswith(_TEMPLATE_AFTER)


def why_not_secret(body: str, after: str = "", extra_words: Iterable[str] = ()) -> Optional[str]:
    """The name of the first heuristic that says ``body`` is not a real token, else None."""
    checks = (
        ("one-char run", lambda: is_one_char_run(body)),
        ("mask", lambda: is_mask(body)),
        ("sequence", lambda: is_sequence(body)),
        ("template", lambda: is_template(body, after)),
        ("placeholder", lambda: is_placeholder(body, extra_words)),
        ("word-like", lambda: is_word_like(body)),
    )
    return next((name for name, check in checks if check()), None)
