"""What ``--output``, ``--report`` and the baseline commands write, and what they leave alone.

A report target may be a device (``/dev/null``), a pipe (``/dev/stdout``, a FIFO a reader waits
on), a symbolic link, or a file whose mode someone chose. Renaming a new regular file over any
of those surprises its owner (as root it turns ``/dev/null`` into a file), so only regular files
are replaced, links keep pointing where they did, and modes stay. Devices are made in the test
directory when we may (root, as CI runs): a regression must not break the machine's own.
"""

from __future__ import annotations

import json
import os
import select
import shlex
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

from copera_secretscan import atomic
from copera_secretscan.cli.main import cli, main
from tests.conftest import cli_runner
from tests.tokens import make_token

BASELINE = ".copera-secretscan-baseline.json"


@pytest.fixture
def leaky(repo: Path) -> Path:
    (repo / "app.env").write_text(f"TOKEN={make_token('cp_pat_', 32, seed=7)}\n")
    return repo


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def char_device(where: Path, name: str, minor: int) -> Path:
    """A memory device (1, minor) of our own, or the system's when we may not make one."""
    path = where / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except PermissionError:
        return Path("/dev") / name
    return path


def leftovers(directory: Path) -> List[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def read_fifo_while(fifo: Path, action: Callable[[], int]) -> Tuple[int, bytes]:
    """Run ``action`` while a reader drains ``fifo``; the reader is open before it starts."""
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    chunks: List[bytes] = []

    def drain() -> None:
        while select.select([fd], [], [], 20)[0]:
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        code = action()
    finally:
        reader.join(20)
        os.close(fd)
    return code, b"".join(chunks)


# --- devices, pipes and FIFOs are written through -------------------------------------------


def test_a_null_device_as_output_stays_a_device(
    leaky: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    null = char_device(tmp_path, "null", 3)
    for args in (["--output", str(null)], ["--report", f"sarif:{null}"]):
        code, _, err = run(capsys, "scan", "-q", *args)
        assert (code, err) == (1, "")
        assert stat.S_ISCHR(os.stat(null).st_mode), args


@pytest.mark.parametrize("option", ["--output", "--report"])
def test_a_full_device_is_one_error_line_and_exit_2(
    leaky: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str
) -> None:
    full = char_device(tmp_path, "full", 7)
    value = str(full) if option == "--output" else f"json:{full}"
    code, _, err = run(capsys, "scan", "-q", option, value)
    assert code == 2
    assert err == f"copera-secretscan: error: {full}: cannot write: No space left on device\n"
    assert stat.S_ISCHR(os.stat(full).st_mode)


@pytest.mark.parametrize("target", ["/dev/stdout", "/proc/self/fd/1"])
def test_stdout_named_as_a_path_reaches_the_pipe(leaky: Path, target: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", "-q", "-f", "json", "-o", target],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (1, "")
    assert json.loads(proc.stdout)["findings"][0]["path"] == "app.env"


def test_stdout_redirected_to_a_file_and_named_as_a_path_fills_that_file(leaky: Path) -> None:
    out = leaky / "redirected.json"
    with out.open("w") as handle:
        proc = subprocess.run(
            [sys.executable, "-m", "copera_secretscan", "scan", "-f", "json", "-o", "/dev/stdout"],
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert (proc.returncode, proc.stderr) == (1, "")
    assert json.loads(out.read_text())["findings"][0]["path"] == "app.env"


def test_stdout_appended_to_a_file_keeps_what_the_file_had(leaky: Path) -> None:
    log = leaky / "ci.log"
    log.write_text("earlier steps\n")
    command = f"{shlex.quote(sys.executable)} -m copera_secretscan scan -q -o /dev/fd/1 >> ci.log"
    proc = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (1, "")
    text = log.read_text()
    assert text.startswith("earlier steps\napp.env:1:") and "Found 1 Copera token" in text


def test_a_fifo_with_a_reader_gets_the_report_and_stays_a_fifo(
    leaky: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    code, data = read_fifo_while(fifo, lambda: main(["scan", "-q", "-f", "json", "-o", str(fifo)]))
    assert code == 1
    assert json.loads(data)["findings"][0]["path"] == "app.env"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("option", ["--output", "--report"])
def test_a_fifo_nobody_reads_is_an_error_at_once_not_a_hang(
    leaky: Path, tmp_path: Path, option: str
) -> None:
    fifo = tmp_path / "nobody.fifo"
    os.mkfifo(fifo)
    value = str(fifo) if option == "--output" else f"sarif:{fifo}"
    proc = subprocess.run(
        [sys.executable, "-m", "copera_secretscan", "scan", "-q", option, value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"copera-secretscan: error: {fifo}: cannot write: nothing")
    assert proc.stderr.count("\n") == 1
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_dash_means_standard_output_for_output_and_report(
    leaky: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "scan", "-q", "-f", "json", "--output", "-")
    assert (code, err) == (1, "")
    assert json.loads(out)["findings"][0]["path"] == "app.env"
    code, out, err = run(capsys, "scan", "-q", "-f", "text", "--report", "sarif:-")
    assert (code, err) == (1, "")
    assert '"$schema"' in out and "app.env" in out
    assert not (leaky / "-").exists()


# --- regular files: replaced whole, links kept, modes kept ----------------------------------


def test_a_symlinked_report_keeps_its_link_and_the_target_gets_the_report(
    leaky: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "elsewhere" / "report.json"
    real.parent.mkdir()
    real.write_text("old\n")
    (leaky / "link.json").symlink_to(real)
    (leaky / "chain.json").symlink_to("link.json")  # a link to a link
    for name in ("link.json", "chain.json"):
        real.write_text("old\n")
        code, _, err = run(capsys, "scan", "-q", "-f", "json", "--output", name)
        assert (code, err) == (1, "")
        assert (leaky / name).is_symlink()
        assert json.loads(real.read_text())["findings"][0]["path"] == "app.env"
    assert leftovers(real.parent) == [] and leftovers(leaky) == []


def test_a_dangling_link_creates_its_target_and_stays_a_link(
    leaky: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "new.sarif"
    (leaky / "out.sarif").symlink_to(real)
    assert run(capsys, "scan", "-q", "--report", "sarif:out.sarif")[0] == 1
    assert (leaky / "out.sarif").is_symlink() and "app.env" in real.read_text()


def test_an_existing_report_keeps_its_mode_and_a_new_one_gets_the_umask(
    leaky: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = leaky / "kept.json"
    kept.write_text("old\n")
    kept.chmod(0o604)
    old_umask = os.umask(0o027)
    try:
        assert run(capsys, "scan", "-q", "-o", "kept.json", "--report", "json:new.json")[0] == 1
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604
    assert stat.S_IMODE((leaky / "new.json").stat().st_mode) == 0o640
    assert "app.env" in kept.read_text()


def test_root_keeps_a_users_report_theirs(leaky: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = leaky / "theirs.json"
    report.write_text("old\n")
    if os.geteuid() == 0:  # only root can give a file away; CI runs as root
        os.chown(report, 12345, 12345)
    before = report.stat()
    assert run(capsys, "scan", "-q", "-o", "theirs.json")[0] == 1
    after = report.stat()
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # replaced whole, not rewritten in place


def test_a_read_only_report_is_refused_not_replaced(
    leaky: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = leaky / "locked.json"
    report.write_text("keep me\n")
    report.chmod(0o444)
    code, _, err = run(capsys, "scan", "-q", "--report", "json:locked.json")
    assert code == 2
    assert err == (
        "copera-secretscan: error: locked.json: cannot write: "
        "read-only: make it writable to update it\n"
    )
    assert report.read_text() == "keep me\n"


def test_a_file_we_may_not_write_is_refused_as_open_would(
    leaky: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root may write anything, so the check that a user meets is simulated through os.access."""
    (leaky / "theirs.json").write_text("keep me\n")
    monkeypatch.setattr(atomic.os, "access", lambda path, mode: False)
    code, _, err = run(capsys, "scan", "-q", "--report", "json:theirs.json")
    assert (code, err) == (
        2,
        "copera-secretscan: error: theirs.json: cannot write: Permission denied\n",
    )
    assert (leaky / "theirs.json").read_text() == "keep me\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--output", "missing/out.json"],
            "missing/out.json: cannot write: no such directory missing",
        ),
        (["--report", "json:adir"], "adir: cannot write: Is a directory"),
    ],
)
def test_unwritable_targets_are_one_line_naming_the_file(
    leaky: Path, capsys: pytest.CaptureFixture[str], args: List[str], message: str
) -> None:
    (leaky / "adir").mkdir()
    code, _, err = run(capsys, "scan", "-q", *args)
    assert (code, err) == (2, f"copera-secretscan: error: {message}\n")
    assert not (leaky / "missing").exists()


# --- the temporary file ---------------------------------------------------------------------


def test_a_link_planted_at_the_old_predictable_temp_name_is_not_followed(
    leaky: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    planted = leaky / f".report.json.{os.getpid()}.tmp"
    planted.symlink_to(victim)
    assert run(capsys, "scan", "-q", "-o", "report.json")[0] == 1
    assert victim.read_text() == "precious\n"
    assert planted.is_symlink() and os.readlink(planted) == str(victim)
    assert "app.env" in (leaky / "report.json").read_text()


def test_a_failed_rename_leaves_no_temporary_file_and_the_old_report(
    leaky: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (leaky / "report.json").write_text("old\n")

    def refuse(source: str, target: str) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    code, _, err = run(capsys, "scan", "-q", "-o", "report.json")
    assert (code, err) == (
        2,
        "copera-secretscan: error: report.json: cannot write: Input/output error\n",
    )
    assert (leaky / "report.json").read_text() == "old\n"
    assert leftovers(leaky) == []


def test_ctrl_c_while_writing_leaves_no_temporary_file(
    leaky: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    assert run(capsys, "scan", "-q", "-o", "report.json")[0] == 130
    assert leftovers(leaky) == [] and not (leaky / "report.json").exists()


def test_temporary_names_are_unpredictable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: List[str] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777) -> int:
        made.append(os.path.basename(path))
        return real_open(path, flags, mode)

    monkeypatch.setattr(atomic.os, "open", spy)
    for _ in range(3):
        atomic.write_atomically(str(tmp_path / "r.json"), "{}\n")
    assert len(set(made)) == 3 and not any(str(os.getpid()) in name for name in made)
    assert leftovers(tmp_path) == []


# --- the baseline commands follow the same rules --------------------------------------------


@pytest.fixture
def baselined(leaky: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["baseline", "create"]) == 0
    capsys.readouterr()
    return leaky


def test_update_keeps_a_symlinked_baseline_a_link_and_its_mode(
    baselined: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "shared-baseline.json"
    (baselined / BASELINE).rename(shared)
    (baselined / BASELINE).symlink_to(shared)
    shared.chmod(0o600)
    (baselined / "new.env").write_text(f"K={make_token('cp_key_', 32, seed=8)}\n")
    for args in (["baseline", "update"], ["baseline", "create", "--force"]):
        code, out, err = run(capsys, *args)
        assert out.startswith("Wrote "), out
        assert (code, err) == (0, ""), args
        assert (baselined / BASELINE).is_symlink()
        assert stat.S_IMODE(shared.stat().st_mode) == 0o600
        assert len(json.loads(shared.read_text())["entries"]) == 2


@pytest.mark.parametrize("args", [["baseline", "update"], ["baseline", "create", "--force"]])
def test_a_read_only_baseline_is_refused_before_the_scan(
    baselined: Path, capsys: pytest.CaptureFixture[str], args: List[str]
) -> None:
    before = (baselined / BASELINE).read_bytes()
    (baselined / BASELINE).chmod(0o444)
    (baselined / "new.env").write_text(f"K={make_token('cp_key_', 32, seed=8)}\n")
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err == (
        f"copera-secretscan: error: {BASELINE}: cannot write baseline: "
        "read-only: make it writable to update it\n"
    )
    assert (baselined / BASELINE).read_bytes() == before


def test_audit_refuses_a_read_only_baseline_before_asking(
    baselined: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (baselined / BASELINE).chmod(0o444)
    code, out, err = run(capsys, "baseline", "audit")
    assert (code, out) == (2, "")  # not one question asked
    assert err == (
        f"copera-secretscan: error: {BASELINE}: cannot write baseline: "
        "read-only: make it writable to update it\n"
    )


def test_audit_saves_decisions_through_a_symlink_keeping_the_mode(
    baselined: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-baseline.json"
    (baselined / BASELINE).rename(shared)
    (baselined / BASELINE).symlink_to(shared)
    shared.chmod(0o640)
    result = cli_runner().invoke(cli, ["baseline", "audit"], input="f\nfixture\n")
    assert result.exit_code == 0, result.output
    assert (baselined / BASELINE).is_symlink() and stat.S_IMODE(shared.stat().st_mode) == 0o640
    assert json.loads(shared.read_text())["entries"][0]["decision"] == "false-positive"
