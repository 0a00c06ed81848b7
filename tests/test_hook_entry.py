"""The manifest's entry line, run as pre-commit runs it: ``python -S -c CODE FILE...``.

The entry skips ``site`` and puts the environment's site-packages on the path itself (issue 14).
Two environments prove both of its branches: one laid out like pre-commit's (a venv whose
site-packages holds the package), where ``site`` never loads on a clean commit, and this test
run's own interpreter, where the guess misses (an editable install is found through a ``.pth``
file) and ``site`` runs as usual. In both, a token still reaches the full CLI and exit 1.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

import copera_secretscan
from tests.tokens import make_token

MANIFEST = Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml"


def entry_code() -> str:
    hooks = {hook["id"]: hook for hook in yaml.safe_load(MANIFEST.read_text())}
    python, *flags, code = shlex.split(hooks["copera-secretscan"]["entry"])
    assert (python, flags) == ("python", ["-S", "-c"])
    return code


def hook(python: str, cwd: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """The entry run by ``python`` on ``files``, with its imports listed on stderr."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "GIT_CEILING_DIRECTORIES": str(cwd)}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [python, "-S", "-c", entry_code(), *files],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )


def imported(run: subprocess.CompletedProcess[str]) -> set[str]:
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }


def precommit_like_env(root: Path) -> Path:
    """A virtual environment laid out as pre-commit's (``bin/python``, ``pyvenv.cfg``,
    ``lib/pythonX.Y/site-packages``) whose site-packages holds this package and links to the
    test run's own dependencies; its interpreter."""
    env = root / "env"
    (env / "bin").mkdir(parents=True)
    base = Path(os.path.realpath(sys.executable))
    python = env / "bin" / "python"
    python.symlink_to(base)
    (env / "pyvenv.cfg").write_text(f"home = {base.parent}\ninclude-system-site-packages = false\n")
    site_packages = env / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site_packages = site_packages / "site-packages"
    site_packages.mkdir(parents=True)
    for item in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not item.name.startswith(("copera_secretscan", "__editable__")):
            (site_packages / item.name).symlink_to(item)
    (site_packages / "copera_secretscan").symlink_to(Path(copera_secretscan.__file__).parent)
    return python


@pytest.fixture
def work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "clean.py").write_text("x = 1\n" * 50)
    (work / "harmless.txt").write_text("tcp_keepalive = 1\n")
    (work / "leak.py").write_text(f'K = "{make_token("cp_pat_", 36, seed=1401)}"\n')
    # a package of the same name in the directory being committed is never imported
    (work / "copera_secretscan").mkdir()
    (work / "copera_secretscan" / "__init__.py").write_text("raise SystemExit(3)\n")
    return work


def test_in_an_environment_laid_out_as_pre_commit_s_site_never_loads_on_a_clean_commit(
    tmp_path: Path, work: Path
) -> None:
    python = str(precommit_like_env(tmp_path))

    for name in ("clean.py", "harmless.txt"):
        clean = hook(python, work, name)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert "No Copera tokens found (1 file scanned)." in clean.stdout
        assert "copera_secretscan.quick" in imported(clean)
        assert "site" not in imported(clean), name

    leak = hook(python, work, "clean.py", "leak.py")
    assert leak.returncode == 1, leak.stdout + leak.stderr
    assert "leak.py:1:" in leak.stdout
    assert {"site", "click"} <= imported(leak)  # the full CLI, as the environment set it up


def test_where_the_site_packages_guess_misses_site_runs_and_the_hook_still_works(
    work: Path,
) -> None:
    """This test run's package is found only once ``site`` has run (an editable install, or
    any layout the entry does not know): the entry falls back to it."""
    clean = hook(sys.executable, work, "clean.py", "harmless.txt")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "No Copera tokens found (2 files scanned)." in clean.stdout

    leak = hook(sys.executable, work, "leak.py")
    assert leak.returncode == 1, leak.stdout + leak.stderr
    assert "leak.py:1:" in leak.stdout
    token = make_token("cp_pat_", 36, seed=1401)
    assert token not in leak.stdout + leak.stderr
