"""Scan results built by hand for the report tests: every kind, history, odd paths, errors.

Tokens come from ``make_token`` (deterministic per seed), so golden files are stable, and every
test can ask for the raw tokens to prove no report leaks them.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, List, Optional, Tuple

import jsonschema
import xmlschema

from copera_secretscan.models import Finding, History, Origin, Problem, ScanResult
from tests.tokens import make_token

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)  # the fixed clock of golden files
COMMIT = "3f2a9c81d0b4e6f7a8c9d0e1f2a3b4c5d6e7f809"
MESSAGE_COMMIT = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
PREFIXES = {"copera-pat": "cp_pat_", "copera-key": "cp_key_", "copera-oat": "cp_oat_"}

# (rule id, path, line, column, commit): several of each kind, a history finding, a commit
# message, Unicode, spaces, "%", ",", ":", a newline in a name, and a custom rule.
PLACES: Tuple[Tuple[str, Optional[str], int, int, Optional[str]], ...] = (
    ("copera-pat", "src/app/settings.py", 12, 9, None),
    ("copera-pat", "config/prod.env", 3, 13, None),
    ("copera-pat", "old/creds.py", 7, 11, COMMIT),
    ("copera-key", "deploy/k8s secret.yaml", 21, 15, None),
    ("copera-key", "docs/100% ready, really: yes.md", 1, 1, None),
    ("copera-key", None, 3, 20, MESSAGE_COMMIT),
    ("copera-oat", ".cursor/mcp.json", 5, 24, None),
    ("copera-oat", "données/ключ 🔑.txt", 2, 4, None),
    ("copera-oat", "weird\nname\r.txt", 1, 7, None),
    ("acme-internal", "svc/acme.cfg", 9, 8, None),
)


def token_for(rule_id: str, seed: int) -> Tuple[str, str]:
    prefix = PREFIXES.get(rule_id, "acme_")
    return make_token(prefix, 32, seed), prefix


def finding(
    rule_id: str, path: Optional[str], line: int, column: int, commit: Optional[str], seed: int
) -> Finding:
    secret, prefix = token_for(rule_id, seed)
    history = None
    if commit is not None:
        history = History(
            "Test Author <author@example.com>",
            "2025-12-24T10:00:00+00:00",
            2,
            None if path is None else False,
        )
    return Finding(
        rule_id=rule_id,
        origin=Origin(path, commit),
        line=line,
        column=column,
        end_line=line,
        end_column=column + len(secret),
        secret=secret,
        prefix=prefix,
        line_text=f'TOKEN = "{secret}"  # the whole line, raw',
        history=history,
    )


def findings() -> List[Finding]:
    found = [finding(*place, seed=n) for n, place in enumerate(PLACES, 1)]
    return sorted(found, key=Finding.sort_key)


def full_result() -> ScanResult:
    return ScanResult(
        findings=tuple(findings()),
        problems=(Problem("secrets/locked.bin", "permission denied"),),
        files=42,
        bytes=123456,
        seconds=1.25,
        suppressed=2,
        warnings=("baseline entry 1a2b expired",),
    )


def empty_result() -> ScanResult:
    return ScanResult(files=7, bytes=2048, seconds=0.5)


def secrets(result: ScanResult) -> List[str]:
    return [f.secret for f in result.findings]


GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parent / "data"


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; COPERA_UPDATE_GOLDEN=1 rewrites it (then review the diff)."""
    path = GOLDEN / name
    if os.environ.get("COPERA_UPDATE_GOLDEN") == "1":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    with open(path, encoding="utf-8", newline="") as handle:
        assert text == handle.read(), f"{name} differs from its golden file"


def _schema_errors(validator: Any, document: Any) -> None:
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, errors[0]


def validate_sarif(document: Any) -> None:
    """Against the OASIS SARIF 2.1.0 schema (tests/data, see its README)."""
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    checker = jsonschema.FormatChecker()
    _schema_errors(jsonschema.Draft4Validator(schema, format_checker=checker), document)


def validate_gitlab(document: Any) -> None:
    """Against GitLab's secret-detection report schema (tests/data, see its README)."""
    path = DATA / "secret-detection-report-format.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    checker = jsonschema.FormatChecker()
    _schema_errors(jsonschema.Draft7Validator(schema, format_checker=checker), document)


def validate_junit(text: str) -> None:
    """Against the Apache Ant JUnit XSD (tests/data, see its README)."""
    xmlschema.XMLSchema(str(DATA / "junit-ant.xsd")).validate(text)
