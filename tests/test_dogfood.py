"""Our own hook passes on ourselves: every tracked file but the fake-token corpus is clean.

This is what `.pre-commit-config.yaml` runs under `pre-commit run --all-files`; keeping it in the
test suite means a test or doc that pastes a realistic token fails CI, not just a local hook.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from copera_secretscan.cli.main import main

CHECKOUT = Path(__file__).resolve().parents[1]


def test_the_project_passes_its_own_hook(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=CHECKOUT, capture_output=True, check=True
    ).stdout.decode()
    files = [p for p in listed.split("\0") if p and not p.startswith("fixtures/")]
    files = [p for p in files if (CHECKOUT / p).is_file()]
    monkeypatch.chdir(CHECKOUT)
    code = main(["scan", "--quiet", *files])
    assert code == 0, capsys.readouterr().out
    assert len(files) > 20


def test_the_project_passes_its_own_doctor(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The doctor hook of `.pre-commit-config.yaml`, on this checkout: no token file would be
    committed, none is tracked outside the corpus (the home config is the machine's business)."""
    monkeypatch.chdir(CHECKOUT)
    code = main(["doctor", "--exclude", "fixtures/", "--no-home", "--format", "json"])
    assert code == 0, capsys.readouterr().out
