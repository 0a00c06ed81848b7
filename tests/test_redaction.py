"""No whole token in the human report, however it sits on its line (review findings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from copera_secretscan.cli.main import main
from tests.tokens import make_token


@pytest.mark.parametrize(
    "template",
    [
        '{{"a": "x\\\\n{token}"}}\n',  # after a JSON escape: the engine reports it
        "r=%3D{token}&x=1\n",  # after a URL-encoded '='
        "a {token} b {token}\n",  # twice on a line
    ],
)
def test_line_shown_never_holds_the_token(
    template: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    token = make_token("cp_pat_", 32, seed=61)
    (tmp_path / "f.txt").write_text(template.format(token=token))
    assert main(["scan", "f.txt"]) == 1
    out = capsys.readouterr().out
    assert "line:" in out
    assert token not in out
    assert token[len("cp_pat_") :] not in out


def test_a_baselined_custom_token_beside_a_finding_stays_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".copera-secretscan.toml").write_text('[[rules]]\nid = "acme"\nprefix = "acme_"\n')
    acme = "acme_Zq8L" + make_token("cp_key_", 28, seed=62)[len("cp_key_") :]
    (tmp_path / "a.txt").write_text(f"k={acme}\n")
    assert main(["baseline", "create", "a.txt"]) == 0
    token = make_token("cp_pat_", 32, seed=63)
    (tmp_path / "a.txt").write_text(f"x={token} y={acme}\n")
    capsys.readouterr()

    assert main(["scan", "a.txt", "--baseline", ".copera-secretscan-baseline.json"]) == 1

    out = capsys.readouterr().out
    assert "copera-pat" in out and "(acme)" not in out  # the custom token is accepted...
    assert acme not in out and token not in out  # ...and neither is printed whole
