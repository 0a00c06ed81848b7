"""Fake Copera tokens for tests, generated at run time (never real ones, never committed)."""

from __future__ import annotations

import random
import string

from copera_secretscan.engine.heuristics import why_not_secret

KINDS = {"copera-pat": "cp_pat_", "copera-key": "cp_key_", "copera-oat": "cp_oat_"}
BODY_CHARS = string.ascii_letters + string.digits


def make_token(prefix: str = "cp_pat_", length: int = 32, seed: int = 0) -> str:
    """A random-looking token the engine must report; deterministic for a given seed."""
    rng = random.Random(f"{prefix}:{length}:{seed}")
    while True:
        body = "".join(rng.choice(BODY_CHARS) for _ in range(length))
        if why_not_secret(body) is None:
            return prefix + body
