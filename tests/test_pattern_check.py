"""The load-time check refuses catastrophic body patterns however their characters are spelled.

A pattern over character classes (``\\d``, ``\\w``, ``[A-Z]``) names no character literally, so
probing only with the characters a pattern names let ``(\\d|\\d\\d)+$`` through; the probes now
also use one character of each class a body holds, and pairs of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copera_secretscan.cli.main import main
from copera_secretscan.config import file as configfile
from copera_secretscan.errors import FatalError

CONFIG = ".copera-secretscan.toml"
CATASTROPHIC = [
    r"(a|aa)+$",
    r"(\d|\d\d)+$",
    r"(\w|\w\w)+$",
    r"([A-Z]+)*$",
    r"([a-z0-9]+)+!",
    r"(x+x+)+y",
    r"(_|__)+$",
    r"(-|--)+$",
    r"(ab|a|b)+$",
    r"([0-9a-f]|[0-9])+$",
    r"([A-Za-z0-9_-]+)*$",
    r"(\d+)*[a-z]$",
    r"([[:digit:]]+)+$",
    r"(=|==)+$",
    r"(\+|\+\+)+$",
]
SANE = [
    r"[A-Za-z0-9]{32}",
    r"[a-f0-9]{40}",
    r"[A-Za-z0-9_-]{20,64}",
    r"(?:live|test)_[A-Za-z0-9]{24}",
    r"[A-Za-z0-9+/]{40,}={0,2}",
    r"[A-Z0-9]{8}-[A-Z0-9]{4}-[A-Z0-9]{12}",
]


def vet(pattern: str) -> None:
    configfile.parse({"rules": [{"id": "x", "prefix": "xyz_", "body": pattern}]}, "cfg.toml")


def write_config(repo: Path, pattern: str) -> None:
    (repo / CONFIG).write_text(f'[[rules]]\nid = "x"\nprefix = "xyz_"\nbody = \'{pattern}\'\n')


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_a_catastrophic_pattern_is_refused_with_one_line_naming_file_and_key(
    repo: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    write_config(repo, pattern)
    code = main(["scan", "."])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith(f"copera-secretscan: error: {CONFIG}: rules[0].body: pattern ")
    assert "backtracks catastrophically" in err


@pytest.mark.parametrize("pattern", SANE)
def test_a_sane_pattern_is_accepted(
    repo: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    write_config(repo, pattern)
    (repo / "a.txt").write_text("nothing here\n")
    assert main(["scan", "."]) == 0, capsys.readouterr().err


def test_vetting_a_pattern_is_a_bounded_number_of_probes() -> None:
    """Five class samples and at most twelve named characters, alone and in pairs, two ends
    each: the check stays within tens of milliseconds for a sane pattern."""
    wordy = r"(?:production|staging|development)[+/=._~-][A-Za-z0-9]{32}"
    assert len(configfile._probes(wordy)) == 2 * (17 + 17 * 16 // 2)
    assert all(len(probe) == 4096 for _, probe in configfile._probes(wordy))


CLASSES = [r"\d", r"\w", "[A-Z]", "[a-z]", "[a-z0-9]", "[0-9a-f]", "[A-Za-z0-9_-]", "_", "-"]
CLASSES += ["[[:alnum:]]", r"[\w-]", "[^ ]", "x", r"\S", "."]
SHAPES = ["({c}|{c}{c})+{end}", "({c}+)+{end}", "({c}+)*{end}", "({c}+{c}+)+{end}"]
ENDS = ["$", "!", "y", r"\Z", "[.]"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(SHAPES), cls=st.sampled_from(CLASSES), end=st.sampled_from(ENDS))
def test_every_spelling_of_a_nested_repeat_is_refused(shape: str, cls: str, end: str) -> None:
    pattern = shape.format(c=cls, end=end)
    with pytest.raises(FatalError, match=r"^cfg\.toml: rules\[0\]\.body: pattern .* backtracks"):
        vet(pattern)


@settings(max_examples=40, deadline=None)
@given(
    cls=st.sampled_from(["[A-Za-z0-9]", "[a-f0-9]", "[A-Za-z0-9_-]", r"\w", "[A-Z2-7]"]),
    low=st.integers(8, 64),
    extra=st.integers(0, 64),
)
def test_every_bounded_class_run_is_accepted(cls: str, low: int, extra: int) -> None:
    vet(f"{cls}{{{low},{low + extra}}}")
