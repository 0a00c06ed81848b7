"""The fake-token corpus: every planted token found at its path, line and column by the real
CLI, and nothing in the files about tokens (placeholders, templates, masks, prefix-only code).

fixtures/generate.py writes fixtures/corpus/ and fixtures/expected.json from a seed; the first
test regenerates them and demands identical bytes, so the corpus and its expectations cannot
drift apart or be hand-edited out of step.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Set, Tuple

import pytest

from copera_secretscan.cli import main as cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
Where = Tuple[str, int, int, str]  # path, line, column, rule_id
RULE_IDS = {"pat": "copera-pat", "key": "copera-key", "oat": "copera-oat"}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpus_generator", FIXTURES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _load_generator()


def expected() -> Set[Where]:
    document = json.loads((FIXTURES / "expected.json").read_text())
    return {(f["path"], f["line"], f["column"], f["rule_id"]) for f in document["findings"]}


def cli_findings(
    capsys: pytest.CaptureFixture[str], *args: str
) -> Tuple[int, List[Where], List[dict]]:
    code = cli.main(["scan", "--no-ignore", "-f", "json", *args])
    report = json.loads(capsys.readouterr().out)
    found = [(f["path"], f["line"], f["column"], f["rule_id"]) for f in report["findings"]]
    return code, found, report["errors"]


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the corpus as the working directory: outside this repository's git state and
    configuration, so what is scanned is exactly the corpus."""
    copy = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus", copy)
    monkeypatch.chdir(copy)
    return copy


def test_the_committed_corpus_is_exactly_what_the_generator_writes() -> None:
    assert generate.differences() == []
    assert generate.build() == generate.build()


def test_expectations_match_the_tokens_found_independently_in_the_files() -> None:
    """Every string in a positive file that looks like a token, found here with a plain regex
    on the decoded text, is an expected finding, and every planted token occurs exactly once."""
    token = re.compile(r"cp_(pat|key|oat)_[A-Za-z0-9_-]{16,}")
    files, _ = generate.build()
    seen: Set[Where] = set()
    for path, data in files.items():
        if not path.startswith("positive/"):
            continue
        text = data.decode(_encoding(path))
        text = text.lstrip("\ufeff")
        for match in token.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            seen.add((path, line, column, RULE_IDS[match.group(1)]))
    assert seen == expected()


def _encoding(path: str) -> str:
    entry = generate.POSITIVE.get(path[len("positive/") :])
    return entry[0] if entry else "utf-8"


def test_the_cli_finds_every_planted_token_at_its_place(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, found, errors = cli_findings(capsys, ".")
    assert (code, errors) == (1, [])
    assert sorted(found) == sorted(expected())  # no duplicates, nothing missing or extra


def test_files_about_tokens_stay_silent(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    negatives = sorted(str(p.relative_to(corpus)) for p in (corpus / "negative").rglob("*"))
    assert len(negatives) >= 7
    code, found, errors = cli_findings(capsys, "negative")
    assert (code, found, errors) == (0, [], [])


def test_each_kind_is_planted_in_at_least_fifteen_syntaxes() -> None:
    syntaxes: Dict[str, Set[str]] = defaultdict(set)
    for path, _, _, rule_id in expected():
        syntaxes[rule_id].add(path.split("/")[1])
    for rule_id in RULE_IDS.values():
        assert len(syntaxes[rule_id]) >= 15, (rule_id, sorted(syntaxes[rule_id]))
    assert {"mcp", "minified", "notebook", "url", "csv", "terraform", "docker"} <= syntaxes[
        "copera-pat"
    ]


def test_the_minified_line_is_100000_characters_with_a_token_of_each_kind() -> None:
    line = (FIXTURES / "corpus/positive/minified/bundle.min.js").read_text().rstrip("\n")
    assert len(line) == 100_000 and "\n" not in line
    kinds = {rule for path, _, _, rule in expected() if path.endswith("bundle.min.js")}
    assert kinds == set(RULE_IDS.values())
