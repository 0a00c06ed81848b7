"""The benchmark scripts still run end to end, on tiny generated data (no timing is asserted).

They are not part of CI's timing budget, so without this they would rot silently. ripgrep is
replaced by a stand-in that exits 0: these tests check the scripts' plumbing (data generation,
the commands they run, the table they print), not anybody's speed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_hook  # noqa: E402
import bench_memory  # noqa: E402
import bench_scan  # noqa: E402
import history_bench  # noqa: E402
from _common import main_guard  # noqa: E402


@pytest.fixture
def fake_rg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rg").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "rg").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")


@pytest.mark.usefixtures("fake_rg")
def test_bench_scan_builds_a_tree_and_prints_ratios(tmp_path: Path, capsys: Any) -> None:
    work = tmp_path / "work"
    assert bench_scan.main(["--size-mb", "0.3", "--runs", "1", "--work", str(work)]) == 0
    out = capsys.readouterr().out
    assert "vs rg" in out and "--jobs 1" in out and "git work tree" in out
    bare_row = next(line for line in out.splitlines() if line.startswith("bare Python loop"))
    assert bare_row.split()[-1] == "1"  # exit 1: the yardstick found the planted tokens too
    tree = work / "tree-0.3mb"
    assert len(list((tree / "planted").iterdir())) == bench_scan.PLANTED
    assert any(tree.rglob("*.pyc")) or any(tree.rglob("*.py"))
    assert (work / "tree-0.3mb-git" / ".git" / "index").exists()


@pytest.mark.usefixtures("fake_rg")
def test_bench_memory_builds_its_data_and_measures_rss(tmp_path: Path, capsys: Any) -> None:
    work = tmp_path / "work"
    args = ["--big-mb", "2", "--files", "120", "--runs", "1", "--work", str(work)]
    assert bench_memory.main(args) == 0
    out = capsys.readouterr().out
    assert "peak RSS" in out and "MiB" in out
    assert (work / "big-2mb.src").stat().st_size == 2 << 20
    assert len(list((work / "many-120-src").rglob("*.py"))) == 120


@pytest.mark.usefixtures("fake_rg")
def test_bench_scan_compares_with_another_scanner_and_prints_the_fixed_cost(
    tmp_path: Path, capsys: Any
) -> None:
    before = bench_scan.scanner_command()[0]  # any installed scanner will do for the plumbing
    args = ["--size-mb", "0.2", "--runs", "1", "--no-git", "--fixed-runs", "2"]
    assert bench_scan.main([*args, "--work", str(tmp_path), "--before", before]) == 0
    out = capsys.readouterr().out
    assert "before: scan" in out and "Fixed cost" in out and "above python" in out
    tiny_row = next(line for line in out.splitlines() if "scan TINY" in line)
    assert tiny_row.split()[-1] == "0"  # the small directory is clean


@pytest.mark.usefixtures("fake_rg")
def test_bench_memory_big_file_alone_against_another_scanner(tmp_path: Path, capsys: Any) -> None:
    before = bench_memory.scanner_command()[0]
    args = ["--big-mb", "2", "--files", "0", "--runs", "1", "--work", str(tmp_path)]
    assert bench_memory.main([*args, "--before", before]) == 0
    out = capsys.readouterr().out
    assert "before: scan, same file" in out and "files" not in out.split("tokens planted")[1]
    assert not list(tmp_path.glob("many-*"))


def test_bench_hook_runs_the_hook_clean_and_dirty(tmp_path: Path, capsys: Any) -> None:
    args = ["--runs", "1", "--warmup", "0", "--work", str(tmp_path)]
    assert bench_hook.main(args) == 0
    rows = capsys.readouterr().out.splitlines()
    clean = next(row for row in rows if row.startswith("hook, 10 clean"))
    dirty = next(row for row in rows if row.startswith("hook, 1 of 10"))
    assert clean.split()[-1] == "0" and dirty.split()[-1] == "1"  # exit codes


def test_history_bench_compares_with_git_and_a_before_build_in_one_run(
    tmp_path: Path, capsys: Any
) -> None:
    args = ["--commits", "12", "--runs", "1", "--work", str(tmp_path)]
    assert history_bench.main([*args, "--before", history_bench.SCANNER]) == 0
    out = capsys.readouterr().out
    assert "many-12: 12 commits" in out and "cat-file --batch-all-objects --batch | wc -c" in out
    assert "after / before" in out and "scan --staged" in out and "peak RSS" in out
    marker = tmp_path / "many-12" / "built-before"
    marker.touch()
    assert history_bench.main([*args, "--reuse"]) == 0
    assert marker.exists()  # the repository was kept, not built again
    assert "after / before" not in capsys.readouterr().out


def test_missing_ripgrep_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["bench_scan.py", "--work", str(tmp_path)])
    assert main_guard(bench_scan.main) == 3
    assert "rg is required" in capsys.readouterr().err


@pytest.mark.usefixtures("fake_rg")
def test_bench_peers_runs_every_scenario_with_each_peer_found(tmp_path: Path, capsys: Any) -> None:
    import bench_peers

    peers = tmp_path / "peers"
    peers.mkdir()
    for name in ("betterleaks", "detect-secrets", "detect-secrets-hook"):
        (peers / name).write_text("#!/bin/sh\nexit 0\n")
        (peers / name).chmod(0o755)
    (peers / "gitleaks").write_text("#!/bin/sh\n# betterleaks in disguise\nexit 0\n")
    (peers / "gitleaks").chmod(0o755)
    args = ["--peers", str(peers), "--runs", "1", "--hook-runs", "1", "--tree-mb", "0.2"]
    args += ["--commits", "12", "--big-mb", "2", "--work", str(tmp_path / "work")]
    assert bench_peers.main(args) == 0
    out = capsys.readouterr().out
    assert "gitleaks: no binary" in out  # the betterleaks alias named gitleaks is not gitleaks
    rows = [line for line in out.splitlines() if "x " in line or line.endswith("x")]
    for scenario in ("hook, 10 clean", "harmless cp_", "tree, 0.2 MB", "history, 12", "2 MiB"):
        named = [row for row in rows if scenario in row]
        found = {cmd for row in named for cmd in ("copera", "betterleaks", "detect") if cmd in row}
        everyone = {"copera", "betterleaks", "detect"}
        # detect-secrets has no history scan
        assert found == everyone - ({"detect"} if "history" in scenario else set()), scenario
    ours = next(row for row in rows if "tree, 0.2 MB" in row and "copera-secretscan" in row)
    assert ours.split()[-1] == "1"  # the planted tokens were found
