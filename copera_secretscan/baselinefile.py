"""The baseline's JSON file: read strictly, written byte-stably and atomically.

A baseline is edited by hand (a ``reason``, an ``expires`` date) and merged in pull requests,
so reading it is strict: a mangled file is an error naming the file and what is wrong, never an
empty baseline that would quietly let every accepted token block, or worse, a half-read one.
Writing sorts keys and entries and ends with a newline, so an unchanged tree gives the same
bytes; a temporary sibling renamed into place means a crash never leaves half a file.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any, Dict, NoReturn, Optional, Sequence

from .atomic import write_atomically
from .baseline import DECISIONS, VERSION, Baseline, Entry
from .errors import FatalError

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TOP = ("version", "salt", "entries")
_REQUIRED = ("hash", "path", "redacted", "rule_id")
_OPTIONAL = ("decision", "reason", "expires")


def load(path: str) -> Baseline:
    """The baseline in ``path``; any problem is a FatalError naming the file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError as exc:
        raise FatalError(
            f"{path}: no such baseline (create it with 'copera-secretscan baseline create')"
        ) from exc
    except OSError as exc:
        raise FatalError(f"{path}: cannot read baseline: {exc.strerror or exc}") from exc
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FatalError(f"{path}: corrupt baseline: not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise FatalError(
            f"{path}: corrupt baseline: invalid JSON at line {exc.lineno}: {exc.msg}"
        ) from exc
    return parse(doc, path)


def load_if_valid(path: str) -> Optional[Baseline]:
    """The existing baseline to carry salt and decisions over from, if there is a sound one."""
    try:
        return load(path)
    except FatalError:
        return None


def parse(doc: Any, path: str) -> Baseline:
    if not isinstance(doc, dict):
        _fail(path, "expected a JSON object at the top")
    unknown = sorted(set(doc) - set(_TOP))
    if unknown or any(key not in doc for key in _TOP):
        _fail(path, f"expected exactly the keys {', '.join(_TOP)}")
    if doc["version"] != VERSION or isinstance(doc["version"], bool):
        _fail(path, f"unsupported version {doc['version']!r} (this copera-secretscan reads 1)")
    if not isinstance(doc["salt"], str) or not _HEX64.match(doc["salt"]):
        _fail(path, "'salt' must be 64 lowercase hex digits")
    if not isinstance(doc["entries"], list):
        _fail(path, "'entries' must be an array")
    entries = [_entry(item, f"entries[{i}]", path) for i, item in enumerate(doc["entries"])]
    digests = [entry.digest for entry in entries]
    if len(set(digests)) != len(digests):
        _fail(path, "the same 'hash' appears in two entries")
    return Baseline(doc["salt"], tuple(sorted(entries, key=Entry.sort_key)))


def _entry(item: Any, where: str, path: str) -> Entry:
    if not isinstance(item, dict):
        _fail(path, f"{where}: expected an object")
    unknown = sorted(set(item) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        _fail(path, f"{where}: unknown key {unknown[0]!r}")
    for key in _REQUIRED + _OPTIONAL:
        if (key in _REQUIRED or key in item) and not isinstance(item.get(key), str):
            _fail(path, f"{where}.{key}: expected a string")
    if not _HEX64.match(item["hash"]):
        _fail(path, f"{where}.hash: expected 64 lowercase hex digits")
    if item.get("decision", DECISIONS[0]) not in DECISIONS:
        _fail(path, f"{where}.decision: expected one of {', '.join(DECISIONS)}")
    if "expires" in item and not _is_date(item["expires"]):
        _fail(path, f"{where}.expires: expected a date as YYYY-MM-DD, got {item['expires']!r}")
    values = {key: item.get(key) for key in _OPTIONAL}
    return Entry(item["hash"], item["rule_id"], item["path"], item["redacted"], **values)


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return _DATE.match(text) is not None


def _fail(path: str, what: str) -> NoReturn:
    raise FatalError(f"{path}: corrupt baseline: {what}")


def dumps(baseline: Baseline) -> str:
    """The file's text: sorted keys and entries, two-space indent, a final newline."""
    doc = {
        "version": VERSION,
        "salt": baseline.salt,
        "entries": [_entry_dict(e) for e in sorted(baseline.entries, key=Entry.sort_key)],
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _entry_dict(entry: Entry) -> Dict[str, str]:
    values: Dict[str, Optional[str]] = {
        "hash": entry.digest,
        "rule_id": entry.rule_id,
        "path": entry.path,
        "redacted": entry.redacted,
        "decision": entry.decision,
        "reason": entry.reason,
        "expires": entry.expires,
    }
    return {key: value for key, value in values.items() if value is not None}


def save(baseline: Baseline, path: str) -> None:
    """Write the whole file or nothing, so a crash never leaves half a baseline."""
    write_atomically(path, dumps(baseline), "baseline")


def count(entries: Sequence[Entry]) -> str:
    return f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"


def entries_summary(entries: Sequence[Entry]) -> str:
    return f"{count(entries)}, {sum(1 for e in entries if e.decision)} audited"
