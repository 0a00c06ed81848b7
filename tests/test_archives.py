"""Archives and compressed files: members scanned like files at ``outer!inner``, within caps.

Every archive is built here with a generated token; the zip bombs are generated too (1 GiB of
zeros deflates to under 5 MB).
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import tarfile
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from copera_secretscan.cli.main import main
from copera_secretscan.engine import archives
from copera_secretscan.engine.archives import Budget, Limits
from copera_secretscan.engine.rules import Ruleset
from copera_secretscan.models import Input, Origin
from copera_secretscan.pipeline import scan_input
from tests.conftest import commit_all
from tests.tokens import make_token

TOKEN = make_token("cp_pat_", 32, seed=11)
TEXT = f"first line\nsecond line\nTOKEN={TOKEN}\n".encode()  # the token on line 3


def zipped(members: Dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tarred(members: Dict[str, bytes], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, Dict[str, Any]]:
    code = main(["scan", "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def places(report: Dict[str, Any]) -> List[Tuple[str, int]]:
    return sorted((f["path"], f["line"]) for f in report["findings"])


FORMATS = {
    "a.zip": lambda: zipped({"dir/x.env": TEXT}),
    "stored.zip": lambda: zipped({"dir/x.env": TEXT}, zipfile.ZIP_STORED),
    "lib.jar": lambda: zipped({"META-INF/MANIFEST.MF": b"x", "dir/x.env": TEXT}),
    "a.tar": lambda: tarred({"dir/x.env": TEXT}),
    "a.tar.gz": lambda: tarred({"dir/x.env": TEXT}, "w:gz"),
    "a.tgz": lambda: tarred({"dir/x.env": TEXT}, "w:gz"),
    "a.tar.bz2": lambda: tarred({"dir/x.env": TEXT}, "w:bz2"),
    "a.tar.xz": lambda: tarred({"dir/x.env": TEXT}, "w:xz"),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_each_format_reports_the_member_and_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(FORMATS[name]())
    code, report = scan_json(capsys, name)
    assert code == 1
    assert places(report) == [(f"{name}!dir/x.env", 3)]
    assert report["findings"][0]["column"] == len("TOKEN=") + 1
    assert report["errors"] == []


@pytest.mark.parametrize(
    ("name", "compress", "member"),
    [
        ("app.log.gz", gzip.compress, "app.log"),
        ("app.log.bz2", bz2.compress, "app.log"),
        ("app.log.xz", lzma.compress, "app.log"),
    ],
)
def test_a_compressed_file_holds_the_file_without_its_suffix(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    compress: Any,
    member: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(compress(TEXT))
    code, report = scan_json(capsys, name)
    assert (code, places(report)) == (1, [(f"{name}!{member}", 3)])


def test_nested_archives_chain_their_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    inner = tarred({"c/d.env": TEXT}, "w:gz")
    Path("a.zip").write_bytes(zipped({"b.tar.gz": inner}))
    code, report = scan_json(capsys, ".")
    assert (code, places(report)) == (1, [("a.zip!b.tar.gz!c/d.env", 3)])


def test_a_token_in_a_member_name_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.zip").write_bytes(zipped({f"keys/{TOKEN}/a.txt": b"", f"keys/{TOKEN}/b.txt": b""}))
    code, report = scan_json(capsys, "a.zip", "--show-secrets")
    assert code == 1
    [finding] = report["findings"]  # one finding for the directory, not one per file
    assert (finding["path"], finding["line"], finding["secret"]) == (
        f"a.zip!keys/{TOKEN}",
        0,
        TOKEN,
    )


def test_a_stored_member_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its bytes are in the zip as they are: the raw zip is not scanned again."""
    monkeypatch.chdir(tmp_path)
    Path("a.zip").write_bytes(zipped({"x.env": TEXT}, zipfile.ZIP_STORED))
    _, report = scan_json(capsys, "a.zip")
    assert places(report) == [("a.zip!x.env", 3)]


def test_a_streamed_archive_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Over 1 MiB, a file is read as a stream: an archive is read whole, up to archive_bytes."""
    monkeypatch.chdir(tmp_path)
    Path("big.zip").write_bytes(zipped({"noise.bin": os.urandom(3 << 20), "x.env": TEXT}))
    code, report = scan_json(capsys, "big.zip")
    assert (code, places(report)) == (1, [("big.zip!x.env", 3)])


def test_a_streamed_archive_over_the_cap_is_scanned_plain_with_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".copera-secretscan.toml").write_text("archive_bytes = 2000000\n")
    Path("big.zip").write_bytes(
        zipped({"noise.bin": os.urandom(3 << 20), "x.env": TEXT}, zipfile.ZIP_STORED)
    )
    code, report = scan_json(capsys, "big.zip")
    assert code == 1
    assert [f["path"] for f in report["findings"]] == ["big.zip"]  # stored: found plain
    [error] = report["errors"]
    assert "larger than 2000000 bytes" in error["message"]
    assert "archive_bytes" in error["message"]


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """1 GiB of zeros, deflated (under 5 MB)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            chunk = bytes(1 << 24)
            for _ in range(64):
                member.write(chunk)
        archive.writestr("x.env", TEXT)
    return buffer.getvalue()


def bounded_scan(data: bytes, name: str) -> Tuple[Any, float, int]:
    """The scan of ``data`` with default caps, its seconds, its peak of traced memory."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        scanned = scan_input(Input(Origin(name), data), Ruleset(), Limits())
        return scanned, time.perf_counter() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_zip_bomb_stops_at_the_byte_cap(zip_bomb: bytes) -> None:
    scanned, seconds, peak = bounded_scan(zip_bomb, "bomb.zip")
    assert scanned.problem is not None
    assert scanned.problem.path == "bomb.zip"
    assert "expands to more than" in scanned.problem.message
    assert "archive_bytes" in scanned.problem.message
    assert seconds < 20 and peak < 3 * Limits().bytes


def test_a_nested_zip_bomb_stops_at_the_total_cap(zip_bomb: bytes) -> None:
    nested = zipped({f"bomb{i}.zip": zip_bomb for i in range(10)}, zipfile.ZIP_STORED)
    scanned, seconds, peak = bounded_scan(nested, "nested.zip")
    assert scanned.problem is not None
    assert "archive_total_bytes" in scanned.problem.message or "archive_bytes" in str(
        scanned.problem
    )
    assert seconds < 30 and peak < 3 * Limits().bytes + len(nested)


def test_depth_is_capped() -> None:
    data = TEXT
    for level in range(Limits().depth + 1):
        data = zipped({f"level{level}.zip" if level else "x.env": data})
    scanned = scan_input(Input(Origin("deep.zip"), data), Ruleset(), Limits())
    assert scanned.problem is not None and "archive_depth" in scanned.problem.message


def test_ten_thousand_members_end_with_a_problem_then_a_raised_cap_clears_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("many.zip").write_bytes(zipped({f"f{i}.txt": b"x" for i in range(10_000)}))
    started = time.perf_counter()
    code, report = scan_json(capsys, "many.zip")
    assert time.perf_counter() - started < 20
    assert code == 2
    [error] = report["errors"]
    assert "more than 5000 members" in error["message"] and "archive_members" in error["message"]
    Path(".copera-secretscan.toml").write_text("archive_members = 20000\n")
    code, report = scan_json(capsys, "many.zip")
    assert (code, report["errors"]) == (0, [])


def test_archive_depth_zero_scans_archives_as_plain_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".copera-secretscan.toml").write_text("archive_depth = 0\n")
    Path("a.zip").write_bytes(zipped({"x.env": TEXT}, zipfile.ZIP_STORED))
    code, report = scan_json(capsys, "a.zip")
    assert (code, [f["path"] for f in report["findings"]]) == (1, ["a.zip"])


@pytest.mark.parametrize("value", ["-1", "true", '"5"'])
def test_a_cap_must_be_a_whole_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".copera-secretscan.toml").write_text(f"archive_members = {value}\n")
    assert main(["scan", "."]) == 2
    assert "archive_members: expected an integer of 0 or more" in capsys.readouterr().err


def corrupt_crc() -> bytes:
    data = bytearray(zipped({"x.env": TEXT}, zipfile.ZIP_STORED))
    data[30 + len("x.env")] ^= 0x20  # "first line" -> "First line": the CRC-32 no longer fits
    return bytes(data)


CORRUPT = {
    "crc.zip": corrupt_crc,
    "truncated.zip": lambda: zipped({"x.env": TEXT}, zipfile.ZIP_STORED)[:-30],
    "truncated.gz": lambda: gzip.compress(TEXT)[:-12],
    "truncated.tar.xz": lambda: tarred({"x.env": TEXT}, "w:xz")[:-40],
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_a_corrupt_archive_is_a_problem_and_its_bytes_are_scanned_plain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(name).write_bytes(CORRUPT[name]())
    code, report = scan_json(capsys, name)
    assert code in (1, 2)
    [error] = report["errors"]
    assert error["path"] == name and ("corrupt" in error["message"] or "trunc" in error["message"])
    if name.endswith(".zip"):  # stored: the token's bytes are there to find
        assert code == 1 and [f["path"] for f in report["findings"]] == [name]


def test_history_finds_a_token_in_a_committed_zip(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "build").mkdir()
    (repo / "build" / "app.zip").write_bytes(zipped({"conf/x.env": TEXT}))
    added = commit_all(repo, "ship the build")
    code, report = scan_json(capsys, "--history")
    assert code == 1
    [finding] = report["findings"]
    assert (finding["path"], finding["line"], finding["commit"]) == (
        "build/app.zip!conf/x.env",
        3,
        added,
    )
    assert finding["present_at_head"] is True


def test_staged_zip_is_scanned(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import git

    (repo / "a.zip").write_bytes(zipped({"x.env": TEXT}))
    git(repo, "add", "a.zip")
    code, report = scan_json(capsys, "--staged")
    assert (code, places(report)) == (1, [("a.zip!x.env", 3)])


def test_kind_is_decided_by_the_first_bytes_only() -> None:
    assert archives.kind(b"PK\x03\x04rest") == "zip"
    assert archives.kind(b"plain text that mentions PK\x03\x04") is None
    assert archives.kind(b"") is None
    members = list(archives.members(b"not an archive", "x", Budget(Limits())))
    assert members == []


def test_the_hook_hands_an_archive_to_the_full_scan(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A deflated token has no anchor to find: the lean check must not call the file clean."""
    from copera_secretscan.quick import file_clean, hook_main

    Path("a.zip").write_bytes(zipped({"x.env": TEXT}))
    Path("clean.zip").write_bytes(zipped({"x.env": b"nothing here\n"}))
    Path("plain.txt").write_bytes(b"a zip starts with PK\x03\x04, a gzip with \x1f\x8b\n")
    assert not file_clean("a.zip") and not file_clean("clean.zip")
    assert file_clean("plain.txt")
    assert hook_main(["a.zip"]) == 1
    assert "a.zip!x.env:3:" in capsys.readouterr().out
    assert hook_main(["clean.zip", "plain.txt"]) == 0


def test_a_baseline_accepts_a_token_in_an_archive_and_audit_finds_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "app.zip").write_bytes(zipped({"conf/x.env": TEXT}))
    assert main(["baseline", "create"]) == 0
    assert main(["scan", "--baseline", ".copera-secretscan-baseline.json", "-q"]) == 0
    capsys.readouterr()
    assert main(["baseline", "audit", "--report"]) == 0
    out = capsys.readouterr().out
    assert f"app.zip!conf/x.env:3  copera-pat  {TOKEN[:11]}…  undecided  [present]" in out
