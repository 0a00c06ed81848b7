"""Pure predicates that tell a real token body from text that only looks like one.

A hook that cries wolf gets uninstalled, and a Copera token has a literal prefix to anchor on,
so the remaining noise is documentation and code *about* tokens: placeholders
(``cp_pat_your_token_here``), masks (``cp_key_xxxxxxxxxxxxxxxx``), sequences
(``cp_pat_1234567890abcdef``), template variables (``cp_pat_COPERA_TOKEN``) and identifiers
(``cp_pat_regex_pattern_name``). Real bodies are random, and each predicate is chosen so
that a random body almost never trips it.

Measured false-negative rate (``measure_false_negatives`` in tests/test_heuristics.py, which
runs a smaller sample on every test run): over 1,000,000 random bodies, lengths 16..64, half
base62 and half base64url, seed 20261128, ``why_not_secret`` rejected 3 (0.3 in 100,000): 2
word-like (``AiuprGEO5Ndu3Ypr``, ``RclPTTD0OOMFO1RRE``: 16-17 characters whose case changes
happen to cut them into common pairs), 1 mask (``xxxxx`` inside a 59-character body);
one-char run, sequence, template and placeholder rejected none. The first draft of this
module lost 85 in 200,000 (1 in 2,350), mostly word-like. Interleaved sequences
(``a1b2c3d4…``) and snake-case words (``rejects_whitespace_inside_the_body``), added for
issue 11, left the same three rejected (a first draft of the interleaved test, three fifths
of each half stepping, lost one more).
"""

from __future__ import annotations

import functools
import re
from typing import FrozenSet, Iterable, List, Optional, Pattern, Tuple

# Words that documentation and examples put where a token goes.
_PLACEHOLDER_TEXT = """
    your my the here token tokens key keys secret secrets example examples sample samples
    dummy fake test testing tests placeholder placeholders redacted replace replaceme insert
    changeme change value values xxx todo fixme foo bar baz qux abc mock mocked demo personal
    access api integration oauth mcp copera bearer goes paste put enter generated random string
    real actual valid invalid expired revoked none null undefined default config env environment
    variable var pat oat with from for"""
PLACEHOLDER_WORDS = frozenset(_PLACEHOLDER_TEXT.split())

# The 257 most frequent letter pairs inside the words of CPython 3.11's standard-library
# identifiers (93% of all pair occurrences; words seen at least three times). Identifiers are
# made of them; uniformly random letters hit this set 38% of the time, so a body made almost
# only of them does not happen by chance.
_BIGRAM_TEXT = """
    ab ac ad ag ai ak al am an ap ar as at au av aw ax ay ba be bi bl bo br bs bu by ca cc
    ce ch ci ck cl co cr cs ct cu da dd de di dl do dr ds dt du ea eb ec ed ee ef eg ei el em
    en eo ep eq er es et ev ew ex ey fa fe ff fi fl fo fr fs ft fu ga ge gh gi gl gn gr gs gu
    ha he hi ho ht ia ib ic id ie if ig il im in io ip ir is it iv ix iz ke ki ks la ld le li
    ll lo ls lt lu ly ma mb me mi mm mo mp ms mu na nc nd ne nf ng ni nk nl nn no ns nt nu nv
    oa ob oc od of og oi ok ol om on oo op or os ot ou ov ow pa pe pi pl po pp pr ps pt pu py
    qu ra rc rd re rg ri rk rl rm rn ro rp rr rs rt ru ry sa sc se sh si sk sl so sp ss st su
    sy ta tc td te tf th ti tl tm to tp tr ts tt tu ty ua ub uc ue uf ui ul um un up ur us ut
    va ve vi wa we wi wo wr ws xe xi xp xt yn yp ys yt ze"""
COMMON_BIGRAMS = frozenset(_BIGRAM_TEXT.split())

_SEGMENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_PARTS = re.compile(r"[^_-]+")
_MASK_RUN = re.compile(r"([xX*#0._-])\1{4,}")
_CONSTANT = re.compile(r"[A-Z]+[0-9]*(?:_(?:[A-Z]+[0-9]*|[0-9]+))+")
_TEMPLATE_AFTER = ("{{", "}}", "${", "$(", "#{", "<%", "%>", "{%", "%}")
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
# Pairs of (lower-case, printable ASCII) characters that count as one step of a sequence: the
# same character, the next or previous one, or keyboard neighbours. A set makes the test C-fast.
_STEPS = frozenset(
    [chr(a) + chr(b) for a in range(32, 127) for b in range(a - 1, a + 2) if 32 <= b < 127]
    + [pair for row in _KEYBOARD_ROWS for a, b in zip(row, row[1:]) for pair in (a + b, b + a)]
)


def is_one_char_run(body: str) -> bool:
    """``xxxxxxxxxxxxxxxx``, ``0000000000000000``."""
    return not body or body.count(body[0]) == len(body)


def is_mask(body: str) -> bool:
    """A run of five or more mask characters: ``Ab3dxxxxxxxxxxxx``, ``abcd_____wxyz``.

    Only token characters can be in a body (``*`` or ``…`` end it before the length check).
    """
    return _MASK_RUN.search(body) is not None


def is_sequence(body: str) -> bool:
    """Counting, keyboard walks and repeats: ``1234567890abcdef``, ``qwertyuiop``, ``abcabcabc``.

    Half the neighbouring pairs stepping by one (case-insensitively) or along a keyboard row is
    rare in random text (about one pair in eight does); so is a body that repeats a block.
    """
    lowered = body.lower()
    return _mostly_steps(lowered) or is_repeated(body) or is_interleaved(lowered)


def _mostly_steps(lowered: str, fifths: int = 3) -> bool:
    """``fifths`` fifths of the neighbouring pairs step by one or along a keyboard row."""
    steps = sum(map(_STEPS.__contains__, map(str.__add__, lowered, lowered[1:])))
    return steps * 5 >= (len(lowered) - 1) * fifths


def is_interleaved(lowered: str) -> bool:
    """Two sequences woven together: ``a1b2c3d4e5f6g7h8``, ``1a2b3c4d``, ``q1w2e3r4t5y6``.

    Each of the two halves (every other character) must step four pairs in five; in a random
    body each half steps about one pair in eight, so both doing so does not happen by chance
    (three fifths did, once in a million random bodies: ``CmnnNbUpWqXwcvvcvh``).
    """
    halves = (lowered[0::2], lowered[1::2])
    return len(lowered) >= 8 and all(_mostly_steps(half, fifths=4) for half in halves)


def is_repeated(body: str) -> bool:
    """The same block twice or more (``deadbeefdeadbeef``), or a short period (``ab12ab12ab1``)."""
    if (body + body).find(body, 1) < len(body):
        return True
    return any(body[period:] == body[:-period] for period in range(1, 5) if len(body) > period)


def is_template(body: str, after: str = "") -> bool:
    """A template or environment variable: ``cp_pat_COPERA_TOKEN``, ``cp_pat_abc{{ suffix }}``.

    SCREAMING_SNAKE_CASE with every part a word (optionally numbered) is a variable name; a
    random body is almost never upper case only, and then not split into such parts.
    """
    return _CONSTANT.fullmatch(body) is not None or after.startswith(_TEMPLATE_AFTER)


def is_placeholder(body: str, extra_words: Iterable[str] = ()) -> bool:
    """Mostly words an author types where a token goes: ``your_token_here``, ``TEST_KEY_1234``.

    Counts the characters covered by placeholder words: whole ``_``/``-`` parts of any length,
    and words of four letters or more anywhere. Two fifths covered is a placeholder; a random
    body contains a short word by chance, but not that much of one.
    """
    extra = frozenset(extra_words)
    lowered = body.lower()
    spans = [match.span(1) for match in _placeholder_pattern(extra).finditer(lowered)]
    for part in _PARTS.finditer(lowered):
        if part.group() in PLACEHOLDER_WORDS or part.group() in extra:
            spans.append(part.span())
    return bool(spans) and _covered(spans) * 5 >= len(lowered) * 2


def _covered(spans: List[Tuple[int, int]]) -> int:
    """How many positions the (start, end) spans cover together."""
    total, reach = 0, 0
    for start, end in sorted(spans):
        total += max(0, end - max(start, reach))
        reach = max(reach, end)
    return total


@functools.lru_cache(maxsize=16)
def _placeholder_pattern(extra_words: FrozenSet[str]) -> Pattern[str]:
    words = sorted(w for w in PLACEHOLDER_WORDS | extra_words if len(w) >= 4)
    return re.compile("(?=(" + "|".join(map(re.escape, words)) + "))")


def is_word_like(body: str) -> bool:
    """An identifier: ``validation_regex_pattern``, ``rotationPolicyHandler``, ``handler_v2``.

    Split into words (``_``/``-``, camelCase, digits): mostly letters, at most two numbers,
    words 3.5 letters long on average with at most one single letter, and nearly all letter
    pairs (85%, 90% when there are numbers) common in identifiers. Random mixed-case text
    splits into short crumbs made of rare pairs, with digits scattered through it.
    """
    if is_snake_words(body):
        return True
    segs = _SEGMENT.findall(body)
    words = [seg.lower() for seg in segs if seg.isalpha()]
    numbers = len(segs) - len(words)
    letters = sum(len(word) for word in words)
    if not words or numbers > 2 or letters * 5 < len(body) * 3 or letters * 2 < 7 * len(words):
        return False
    if sum(1 for word in words if len(word) == 1) > 1:
        return False  # `v` in `handler_v2` happens; `F…Z…I` crumbs are random case changes
    pairs = [word[i : i + 2] for word in words for i in range(len(word) - 1)]
    common = sum(1 for pair in pairs if pair in COMMON_BIGRAMS)
    return common * 20 >= len(pairs) * (18 if numbers else 17)


def is_snake_words(body: str) -> bool:
    """Lower-case words joined by ``_`` or ``-``, like a test name:
    ``rejects_whitespace_inside_the_body``, ``finds-the-token-in-a-header``.

    At least three parts, each a lower-case word with a vowel (or one short number); a
    random body is almost never lower case only, let alone cut into such parts.
    """
    parts = re.split(r"[_-]", body)
    words = [part for part in parts if _WORD.fullmatch(part)]
    numbers = len(parts) - len(words)
    if len(parts) < 3 or numbers > 1 or (numbers and not _NUMBER.fullmatch(parts[-1])):
        return False
    return all(_VOWEL.search(word) for word in words) and sum(map(len, words)) >= 2 * len(words)


_WORD = re.compile(r"[a-z]+")
_NUMBER = re.compile(r"[0-9]{1,3}")
_VOWEL = re.compile(r"[aeiouy]")


def why_not_secret(body: str, after: str = "", extra_words: Iterable[str] = ()) -> Optional[str]:
    """The name of the first heuristic that says ``body`` is not a real token, else None.

    ``after`` is the text right after the body (template syntax there gives a template away);
    ``extra_words`` are a team's own placeholder words, lower case.
    """
    if is_one_char_run(body):
        return "one-char run"
    if is_mask(body):
        return "mask"
    if is_sequence(body):
        return "sequence"
    if is_template(body, after):
        return "template"
    if is_placeholder(body, extra_words):
        return "placeholder"
    if is_word_like(body):
        return "word-like"
    return None
