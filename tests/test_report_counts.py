"""One count vocabulary (issue 12): tokens (distinct, what to revoke), places (the files and
messages holding them), files scanned (file versions for a scan of commits), with plurals made
in one place, the same in every format that states counts."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from copera_secretscan.cli.main import main
from copera_secretscan.cli.terminal import Progress
from copera_secretscan.console import plural
from tests.conftest import commit_all


@pytest.mark.parametrize(
    ("count", "noun", "many", "said"),
    [
        (1, "real leak", "", "1 real leak"),
        (2, "real leak", "", "2 real leaks"),
        (0, "place", "", "0 places"),
        (1, "blob", "", "1 blob"),
        (8240, "file version", "", "8,240 file versions"),
        (1, "entry", "entries", "1 entry"),
        (3, "entry", "entries", "3 entries"),
    ],
)
def test_plural(count: int, noun: str, many: str, said: str) -> None:
    assert plural(count, noun, many) == said


def test_progress_says_one_blob() -> None:
    stream = io.StringIO()
    stream.isatty = lambda: True  # type: ignore[method-assign]
    progress = Progress(stream, unit="blobs")
    progress.last = 0.0  # draw now

    progress(1, 2_000_000)

    assert "scanning: 1 blob, 2.0 MB" in stream.getvalue()


@pytest.fixture
def two_tokens_three_places(repo: Path) -> Path:
    """One token in two files plus another token in a third: 2 tokens, 3 places."""
    from tests.tokens import make_token

    first, second = make_token("cp_pat_", 32, seed=21), make_token("cp_key_", 32, seed=22)
    (repo / "a.env").write_text(f"A={first}\n")
    (repo / "b.env").write_text(f"B={first}\n")
    (repo / "c.env").write_text(f"C={second}\n")
    (repo / "clean.txt").write_text("nothing\n")
    commit_all(repo, "leaks")
    return repo


@pytest.mark.parametrize("scope", [[], ["--history"]])
def test_every_format_states_the_same_counts(
    two_tokens_three_places: Path, capsys: pytest.CaptureFixture[str], scope: list[str]
) -> None:
    def run(fmt: str) -> str:
        assert main(["scan", *scope, "--format", fmt]) == 1
        return capsys.readouterr().out

    unit = "file versions" if scope else "files"
    text, github = run("text"), run("github")
    stats = json.loads(run("json"))["stats"]
    props = {p.get("name"): p.get("value") for p in ET.fromstring(run("junit")).iter("property")}

    line = re.search(rf"Found 2 Copera tokens in 3 places: .* \((\d+) {unit} scanned\)\.", text)
    assert line is not None, text
    assert line.group(0) in github  # GitHub's log says the very same line
    assert (stats["tokens"], stats["places"], str(stats["files"])) == (2, 3, line.group(1))
    assert (props["tokens"], props["places"], props["files"]) == ("2", "3", line.group(1))
    assert "1 Copera Integration API Key, 1 Copera Personal Access Token" in text
