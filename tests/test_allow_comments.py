"""Inline allow markers: `copera-secretscan: allow` on the token's line and
`copera-secretscan: allow-next-line` on the line before, in any comment syntax, and exactly
those lines: the next-line marker excuses neither its own line nor the line two below."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from copera_secretscan.cli import main as cli
from copera_secretscan.engine import scan as engine
from copera_secretscan.engine.allowlist import drop_inline_allowed
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.models import Origin
from tests.tokens import make_token

TOKEN = make_token("cp_pat_", 32, seed=11)
OTHER = make_token("cp_key_", 40, seed=12)


def standing(text: str) -> List[int]:
    """Lines of the findings that no allow marker excuses."""
    findings = engine.scan_bytes(text.encode(), Origin("f"), Ruleset())
    kept, _ = drop_inline_allowed(findings)
    return [f.line for f in kept]


@pytest.mark.parametrize(
    "line",
    [
        f"TOKEN={TOKEN}  # copera-secretscan: allow",
        f'const token = "{TOKEN}"; // copera-secretscan: allow',
        f"<token>{TOKEN}</token> <!-- copera-secretscan: allow -->",
        f"SELECT '{TOKEN}'; -- copera-secretscan: allow",
        f'char *t = "{TOKEN}"; /* copera-secretscan: allow */',
        f"/* copera-secretscan: allow */ t = '{TOKEN}'",
        f"{TOKEN} ; copera-secretscan:allow",
        f"REM copera-secretscan: allow\t{TOKEN}",
    ],
)
def test_a_same_line_marker_works_in_any_comment_syntax(line: str) -> None:
    assert standing(f"before\n{line}\nafter {OTHER}\n") == [3]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize(
    "marker",
    [
        "# copera-secretscan: allow-next-line",
        "// copera-secretscan: allow-next-line",
        "<!-- copera-secretscan: allow-next-line -->",
        "-- copera-secretscan: allow-next-line",
        "/* copera-secretscan: allow-next-line */",
    ],
)
def test_a_next_line_marker_excuses_the_line_below(marker: str, newline: str) -> None:
    text = newline.join(["start", marker, f"token: {TOKEN}", f"other: {OTHER}", ""])
    assert standing(text) == [4]


def test_the_next_line_marker_does_not_excuse_its_own_line() -> None:
    text = f"t = '{OTHER}'  # copera-secretscan: allow-next-line\nu = '{TOKEN}'\n"
    assert standing(text) == [1]


def test_the_next_line_marker_does_not_reach_two_lines_down() -> None:
    text = f"# copera-secretscan: allow-next-line\n\nt = '{TOKEN}'\n"
    assert standing(text) == [3]


def test_a_same_line_marker_covers_every_token_on_its_line_only() -> None:
    text = f"a={TOKEN} b={OTHER} # copera-secretscan: allow\nc={TOKEN}\n"
    assert standing(text) == [2]


def test_a_marker_in_a_neighbouring_json_key_works() -> None:
    text = (
        "{\n"
        f'  "token": "{TOKEN}", "_comment": "copera-secretscan: allow",\n'
        '  "_note": "copera-secretscan: allow-next-line",\n'
        f'  "key": "{OTHER}",\n'
        f'  "live": "{TOKEN}"\n'
        "}\n"
    )
    assert standing(text) == [5]


def test_a_marker_after_a_token_at_a_chunk_seam_still_counts() -> None:
    """The engine waits for the rest of the line before deciding a token near a seam."""
    for pad in range(engine.CHUNK_SIZE - 60, engine.CHUNK_SIZE + 5, 7):
        text = "x" * pad + f"\nt = {TOKEN}  # copera-secretscan: allow\n"
        assert standing(text) == [], pad


def test_through_the_cli_an_allowed_token_exits_0_and_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.py").write_text(
        f"TOKEN = '{TOKEN}'  # copera-secretscan: allow\n"
        "# copera-secretscan: allow-next-line\n"
        f"KEY = '{OTHER}'\n"
    )
    assert cli.main(["scan", "--no-color", "settings.py"]) == 0
    out = capsys.readouterr().out
    assert "No Copera tokens found" in out and "2 allowed" in out
    assert TOKEN not in out and OTHER not in out


def test_through_the_cli_an_unallowed_token_next_to_allowed_ones_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.env").write_bytes(  # bytes: write_text(newline=) is Python 3.10+
        f"A={TOKEN} # copera-secretscan: allow\r\nB={OTHER}\r\n".encode()
    )
    assert cli.main(["scan", "--no-color", "a.env"]) == 1
    out = capsys.readouterr().out
    assert "a.env:2:3" in out and "1 allowed" in out
