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
from typing import Any, Dict, List, NoReturn, Optional, Sequence, Tuple

from ..atomic import write_atomically
from ..errors import FatalError
from ..models import printable
from ..sources.readfile import read_whole, reason
from .records import DECISIONS, VERSION, Baseline, Entry

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TOP = ("version", "salt", "entries")
_REQUIRED = ("hash", "path", "redacted", "rule_id")
_OPTIONAL = ("decision", "reason", "expires", "decided")
# Paths are stored escaped (models.printable), so no entry legitimately holds a control
# character; one from a hand edit would reach CI logs as an escape sequence, and a lone
# surrogate cannot be printed or written back as UTF-8 at all.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def load(path: str) -> Baseline:
    """The baseline in ``path``; any problem is a FatalError naming the file."""
    try:
        raw = read_whole(path)  # a pipe (`<(git show main:FILE)`) works, /dev/zero does not
    except FileNotFoundError as exc:
        raise FatalError(
            f"{printable(path)}: no such baseline "
            "(create it with 'copera-secretscan baseline create')"
        ) from exc
    except OSError as exc:
        raise FatalError(f"{printable(path)}: baseline {reason(exc)}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FatalError(f"{printable(path)}: corrupt baseline: not UTF-8 text") from exc
    if not text.strip():
        _fail(path, "the file is empty")
    return parse(_json(text, path), path)


def _json(text: str, path: str) -> Any:
    """The parsed document; whatever hostile text makes the parser raise is one line."""
    try:
        return json.loads(text, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        _fail(path, f"invalid JSON at line {exc.lineno}: {exc.msg}")
    except RecursionError:
        _fail(path, "invalid JSON: nested too deeply")
    except ValueError as exc:  # a duplicate key, or a number too long for int() to convert
        _fail(path, f"invalid JSON: {exc if isinstance(exc, _Duplicate) else 'number too long'}")


class _Duplicate(ValueError):
    """A key given twice: JSON keeps the last silently, and a merge can leave both."""


def _object(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    doc: Dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise _Duplicate(f"the key {_shown(key)} appears twice in one object")
        doc[key] = value
    return doc


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
    if type(doc["version"]) is not int or doc["version"] != VERSION:  # not 1.0, true or "1"
        _fail(
            path, f"unsupported version {_shown(doc['version'])} (this copera-secretscan reads 1)"
        )
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
        _fail(path, f"{where}: unknown key {_shown(unknown[0])}")
    for key in _REQUIRED + _OPTIONAL:
        if (key in _REQUIRED or key in item) and not isinstance(item.get(key), str):
            _fail(path, f"{where}.{key}: expected a string")
        if key in item and _UNPRINTABLE.search(item[key]):
            _fail(
                path, f"{where}.{key}: control character or lone surrogate in {_shown(item[key])}"
            )
    if not _HEX64.match(item["hash"]):
        _fail(path, f"{where}.hash: expected 64 lowercase hex digits")
    if item.get("decision", DECISIONS[0]) not in DECISIONS:
        _fail(path, f"{where}.decision: expected one of {', '.join(DECISIONS)}")
    if "expires" in item and not is_date(item["expires"]):
        _fail(
            path, f"{where}.expires: expected a date as YYYY-MM-DD, got {_shown(item['expires'])}"
        )
    if "decided" in item and not is_date(item["decided"]):
        _fail(
            path, f"{where}.decided: expected a date as YYYY-MM-DD, got {_shown(item['decided'])}"
        )
    values = {key: item.get(key) for key in _OPTIONAL}
    return Entry(item["hash"], item["rule_id"], item["path"], item["redacted"], **values)


def is_date(text: str) -> bool:
    """``YYYY-MM-DD`` and a real day (``2026-02-30`` is not): what ``expires`` must hold."""
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return _DATE.match(text) is not None


def _fail(path: str, what: str) -> NoReturn:
    raise FatalError(f"{printable(path)}: corrupt baseline: {what}")


def _shown(value: Any) -> str:
    """A value from the file for a message: escaped by repr, and short (it may be huge)."""
    text = ascii(value)
    return text if len(text) <= 60 else text[:57] + "..."


def clean_text(text: str) -> str:
    """Typed text made storable: a control character could not be read back (see _entry)."""
    return _UNPRINTABLE.sub(" ", text)


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
        "decided": entry.decided,
    }
    return {key: value for key, value in values.items() if value is not None}


def save(baseline: Baseline, path: str) -> None:
    """Write the whole file or nothing, so a crash never leaves half a baseline."""
    write_atomically(path, dumps(baseline), "baseline")


def count(entries: Sequence[Entry]) -> str:
    return f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"


def entries_summary(entries: Sequence[Entry]) -> str:
    return f"{count(entries)}, {sum(1 for e in entries if e.decision)} audited"
