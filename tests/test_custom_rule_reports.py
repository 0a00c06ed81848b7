"""A team's own rule speaks in its own words: its description and revoke advice reach reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copera_secretscan.cli.main import main

CONFIG = """\
[[rules]]
id = "acme-live"
prefix = "acme_live_"
description = "ACME live API key"
revoke = "Revoke it in the ACME console under Keys."
"""


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".copera-secretscan.toml").write_text(CONFIG)
    (tmp_path / "app.env").write_text("ACME=acme_live_9fQ2kLm7Xr4TzB8wVn3s\n")
    return tmp_path


def test_text_report_uses_the_rules_description_and_advice(
    acme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "app.env"]) == 1
    out = capsys.readouterr().out
    assert "app.env:1:6: ACME live API key (acme-live)" in out
    assert "Revoke it in the ACME console under Keys." in out
    assert "1 ACME live API key" in out


def test_sarif_rule_descriptor_carries_the_custom_text(
    acme: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "-f", "sarif", "app.env"]) == 1
    rules = json.loads(capsys.readouterr().out)["runs"][0]["tool"]["driver"]["rules"]
    [custom] = [rule for rule in rules if rule["id"] == "acme-live"]
    assert "ACME live API key" in custom["shortDescription"]["text"]
    assert "Revoke it in the ACME console under Keys." in custom["help"]["text"]
