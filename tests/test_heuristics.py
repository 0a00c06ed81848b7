"""Each heuristic on its own cases, the realistic non-secrets that must stay silent, and the
measured rate at which random (real-looking) bodies are wrongly rejected.

The full false-negative figure (1,000,000 bodies; see copera_secretscan/heuristics.py) comes
from ``python -m tests.test_heuristics 1000000``; the test below runs 20,000 of the same bodies
so that the suite stays fast, with a bound far above the measured rate.
"""

from __future__ import annotations

import random
import string
import sys
from collections import Counter

import pytest

from copera_secretscan.engine import heuristics
from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.models import Origin
from tests.tokens import make_token

BASE62 = string.ascii_letters + string.digits
BASE64URL = BASE62 + "-_"
SEED = 20261128


def measure_false_negatives(n: int, seed: int = SEED) -> Counter:
    """How many of ``n`` random bodies (16..64 chars, base62/base64url) each heuristic rejects."""
    rng = random.Random(seed)
    rejected: Counter = Counter()
    for i in range(n):
        alphabet = BASE62 if i % 2 == 0 else BASE64URL
        body = "".join(rng.choices(alphabet, k=rng.randint(16, 64)))
        reason = heuristics.why_not_secret(body)
        if reason is not None:
            rejected[reason] += 1
    return rejected


def test_random_bodies_are_almost_never_rejected() -> None:
    rejected = measure_false_negatives(20_000)
    # Measured: 3 in 1,000,000. Allow 1 in 2,000 here so the test is about regressions, not luck.
    assert sum(rejected.values()) <= 10, rejected


@pytest.mark.parametrize("length", [16, 17, 20, 32, 40, 64])
@pytest.mark.parametrize("kind", ["cp_pat_", "cp_key_", "cp_oat_"])
def test_random_tokens_of_every_length_are_found(kind: str, length: int) -> None:
    for seed in range(20):
        token = make_token(kind, length, seed)
        found = engine.scan_bytes(f"x = '{token}'\n".encode(), Origin("f"), Ruleset())
        assert [f.secret for f in found] == [token]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("xxxxxxxxxxxxxxxx", True),
        ("0000000000000000", True),
        ("", True),
        ("xxxxxxxxxxxxxxxy", False),
    ],
)
def test_is_one_char_run(body: str, expected: bool) -> None:
    assert heuristics.is_one_char_run(body) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Ab3dxxxxxxxxxxxx", True),
        ("abcd____________wxyz", True),
        ("abcd*****", True),
        ("00000Ab3dK9qLm2Z", True),
        ("Ab3d-----K9qLm2Z", True),
        ("Ab3dxxxxK9qLm2Zp", False),  # four in a row happens in random text
        ("aB3xX9xQ0_x-Lm2Z", False),
    ],
)
def test_is_mask(body: str, expected: bool) -> None:
    assert heuristics.is_mask(body) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("1234567890abcdef", True),
        ("0123456789abcdef", True),
        ("abcdefghijklmnop", True),
        ("aBcDeFgHiJkLmNoP", True),
        ("qwertyuiopasdfgh", True),
        ("1111222233334444", True),
        ("abc123def456ghi789", True),
        ("deadbeefdeadbeef", True),
        ("ab12ab12ab12ab1", True),
        ("Zq8LmN3vXw5Rt2Kp", False),
        ("kcmN7ravRQ4qGVwE", False),
    ],
)
def test_is_sequence(body: str, expected: bool) -> None:
    assert heuristics.is_sequence(body) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("deadbeefdeadbeef", True),
        ("ab12ab12ab12", True),
        ("abcabcabca", True),
        ("Zq8LmN3vXw5Rt2Kp", False),
        ("Zq8LmN3vZq8LmN3w", False),
    ],
)
def test_is_repeated(body: str, expected: bool) -> None:
    assert heuristics.is_repeated(body) is expected


@pytest.mark.parametrize(
    ("body", "after", "expected"),
    [
        ("COPERA_TOKEN", "", True),
        ("COPERA_API_TOKEN_PROD", "", True),
        ("ACME_DEPLOY_KEY_2", "", True),
        ("OAUTH2_CLIENT_SECRET", "", True),
        ("Zq8LmN3vXw5Rt2Kp", "{{", True),
        ("Zq8LmN3vXw5Rt2Kp", "${", True),
        ("Zq8LmN3vXw5Rt2Kp", "%>", True),
        ("Zq8LmN3vXw5Rt2Kp", "}", False),  # `{cp_pat_…}` in a dict or f-string is still a token
        ("Zq8LmN3vXw5Rt2Kp", "%2", False),  # URL-encoded query strings leak real tokens
        ("ZQ8LMN3VXW5RT2KP", "", False),  # upper case alone is not a variable name
        ("NDTBDGP6_ZBF3WGP", "", False),
        ("Zq8LmN3vXw5Rt2Kp", "", False),
    ],
)
def test_is_template(body: str, after: str, expected: bool) -> None:
    assert heuristics.is_template(body, after) is expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("your_token_here", True),
        ("YOUR_TOKEN_HERE", True),
        ("REPLACE_WITH_YOUR_TOKEN", True),
        ("example_token_123456", True),
        ("insert_your_key_here", True),
        ("sampleTokenValue12345", True),
        ("paste-your-personal-access-token", True),
        ("my_copera_token_2024", True),
        ("LT9njLqo_Msu1_abc", False),  # a short word between separators, by chance
        ("mY_1wMurl8D2MBWuz4ELwIa6n8mxmjiMmi64Z", False),
        ("Zq8LmN3vtestXw5Rt2Kp", False),  # one word inside a long random body
        ("Zq8LmN3vXw5Rt2Kp", False),
    ],
)
def test_is_placeholder(body: str, expected: bool) -> None:
    assert heuristics.is_placeholder(body) is expected


def test_is_placeholder_takes_a_teams_own_words() -> None:
    assert not heuristics.is_placeholder("acmeprod_Zq8LmN3v")
    assert heuristics.is_placeholder("acmeprod_Zq8LmN3v", ["acmeprod"])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("validation_regex_pattern", True),
        ("prefix_length_constant", True),
        ("rotationPolicyHandler", True),
        ("TokenPrefixHelperForTests", True),
        ("configurationLoaderService", True),
        ("load_from_keychain_store", True),
        ("handler_v2_config", True),
        ("workspace-integration-settings", True),
        ("validation_regex_pattern12345", True),
        ("tokenPrefix2024Handler", True),
        ("HTTPClientFactory2", True),
        ("ONsbztakkQDuxkuNp", False),  # random letters: rare pairs
        ("YJAYQIsxiAukaannji", False),
        ("Zq8LmN3vXw5Rt2Kp", False),
        ("x9_Q2_z7_K1_p0_b4", False),
        ("NEFNKE197l76Ritm-Od", False),  # random, three numbers
        ("yXx041vw2BVVweEDc", False),
    ],
)
def test_is_word_like(body: str, expected: bool) -> None:
    assert heuristics.is_word_like(body) is expected


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("xxxxxxxxxxxxxxxxxxxx", "one-char run"),
        ("Ab3dxxxxxxxxxxxxxxxx", "mask"),
        ("abcdef1234567890", "sequence"),
        ("COPERA_TOKEN_VALUE", "template"),
        ("your_token_here_please", "placeholder"),
        ("validation_regex_pattern", "word-like"),
        ("Zq8LmN3vXw5Rt2Kp", None),
    ],
)
def test_why_not_secret_names_the_first_reason(body: str, reason: str) -> None:
    assert heuristics.why_not_secret(body) == reason


# Realistic non-secrets, as they appear in documentation and code about Copera tokens.
NON_SECRETS = [
    "cp_pat_your_token_here",
    "cp_pat_YOUR_TOKEN_HERE",
    "cp_pat_\u2026",
    "cp_pat_...",
    "cp_pat_XXXXXXXXXXXXXXXX",
    "cp_key_xxxxxxxxxxxxxxxxxxxx",
    "cp_pat_<your-token>",
    "cp_pat_{{COPERA_TOKEN}}",
    "cp_pat_{{ copera_token }}",
    "cp_pat_${TOKEN}",
    "cp_pat_$COPERA_TOKEN",
    "cp_pat_%COPERA_TOKEN%",
    "cp_pat_<%= ENV['COPERA_TOKEN'] %>",
    "cp_key_abcdef1234567890",
    "cp_pat_0123456789abcdef",
    "cp_pat_REPLACE_WITH_YOUR_TOKEN",
    "cp_pat_example_token_123456",
    "cp_pat_prefix_length_constant",
    "cp_key_rotationPolicyHandler",
    "cp_pat_validation_regex_pattern",
    "cp_oat_refresh_token_ttl_seconds",
    "cp_oat_access_token_expires_in",
    "cp_key_integration_api_key_v2",
    "cp_pat_COPERA_PERSONAL_TOKEN",
    "cp_pat_prefix_length_constant7",
    "cp_key_rotation_policy_handler_2024",
    "cp_oat_refreshHandlerV2Config",
    'startsWith("Bearer cp_pat_")',
    'token.startswith("cp_oat_")',
    'if key.startswith(("cp_pat_", "cp_key_", "cp_oat_")):',
    're.compile(r"cp_pat_[A-Za-z0-9]{32}")',
    "cp_pat_[A-Za-z0-9_-]{16,}",
    "/^cp_(pat|key|oat)_[A-Za-z0-9_-]{16,}$/",
    "cp_pat_abcd************wxyz",
    "cp_pat_****************",
    "cp_pat_***...***a1b2",
    "cp_pat_ab12\u2026",
    "cp_pat_Ab3d\u2026",
    "cp_pat_abcd____________wxyz",
    "cp_pat_deadbeefdeadbeef",
    "cp_pat_qwertyuiopasdfghjkl",
    "mcp_pat_Zq8LmN3vXw5Rt2KpYb7c",
    "scp_pat_Zq8LmN3vXw5Rt2KpYb7c",
    "gcp_key_path_to_service_account_json",
    "CP_PAT_Zq8LmN3vXw5Rt2KpYb7c",
    "cp_pat_Zq8LmN3vXw5R",  # 13-character body: under the minimum
]


@pytest.mark.parametrize("text", NON_SECRETS)
def test_realistic_non_secrets_stay_silent(text: str) -> None:
    for line in (text, f"  token = '{text}'  ", f"Authorization: Bearer {text}\n"):
        assert engine.scan_bytes(line.encode(), Origin("doc.md"), Ruleset()) == []


if __name__ == "__main__":  # the full measurement quoted in heuristics.py
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    result = measure_false_negatives(count)
    print(f"{sum(result.values())} of {count} random bodies rejected: {dict(result)}")
