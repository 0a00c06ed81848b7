"""The CI recipes are real: action.yml and the GitLab template parse, and their scan commands run.

A recipe whose flags the shipped CLI rejects would fail every user's pipeline, so the scan step
of each is executed here against a repository with a token, and its reports are validated.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from copera_secretscan.cli.main import main
from tests.conftest import git
from tests.report_samples import validate_gitlab, validate_junit, validate_sarif
from tests.tokens import make_token

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
TEMPLATE = ROOT / "ci" / "copera-secretscan.gitlab-ci.yml"


def load(path: Path) -> Dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def step(action: Dict[str, Any], uses_or_id: str) -> Dict[str, Any]:
    steps = action["runs"]["steps"]
    return next(
        s for s in steps if uses_or_id in (s.get("id"), str(s.get("uses", "")).split("@")[0])
    )


def test_action_is_a_composite_that_installs_itself_scans_and_uploads() -> None:
    action = load(ACTION)
    assert action["name"] and action["description"]
    assert set(action["inputs"]) >= {"paths", "args", "sarif-file", "upload-sarif", "format"}
    assert action["runs"]["using"] == "composite"
    assert step(action, "actions/setup-python")["with"]["python-version"]
    install = next(s for s in action["runs"]["steps"] if "pip install" in s.get("run", ""))
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"  # its own checkout
    upload = step(action, "github/codeql-action/upload-sarif")
    assert upload["with"]["sarif_file"] == "${{ steps.scan.outputs.sarif-file }}"
    assert "always()" in upload["if"] and "inputs.upload-sarif" in upload["if"]
    gate = action["runs"]["steps"][-1]
    assert "SCAN_EXIT_CODE" in gate["run"]
    for each in action["runs"]["steps"]:  # inputs go through env, never into the script text
        assert "${{" not in each.get("run", ""), each
        if "run" in each:
            assert each["shell"] == "bash"


def run_action_scan(repo: Path, **inputs: str) -> Tuple[subprocess.CompletedProcess, List[str]]:
    """The scan step's script, as the runner runs it: inputs (defaults from action.yml) in env."""
    action = load(ACTION)
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    values.update(inputs)
    outputs = repo.parent / "github_output"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(outputs),
        **{f"INPUT_{name.upper().replace('-', '_')}": value for name, value in values.items()},
    }
    script = step(action, "scan")["run"]
    proc = subprocess.run(["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True)
    return proc, outputs.read_text().splitlines()


def test_the_action_scan_step_runs(repo: Path) -> None:
    (repo / "app.env").write_text(f"COPERA={make_token('cp_key_', 32, seed=9)}\n")
    proc, outputs = run_action_scan(repo)
    assert proc.returncode == 0, proc.stderr  # the gate step fails the job, not this one
    assert "::error file=app.env,line=1" in proc.stdout
    assert outputs == ["exit-code=1", "sarif-file=copera-secretscan.sarif"]
    validate_sarif(json.loads((repo / "copera-secretscan.sarif").read_text()))


def test_the_action_takes_git_modes_in_args(repo: Path) -> None:
    (repo / "staged.env").write_text(f"COPERA={make_token('cp_oat_', 32, seed=11)}\n")
    git(repo, "add", "staged.env")
    proc, outputs = run_action_scan(repo, args="--staged", format="text")
    assert "staged.env:1:8: Copera MCP OAuth token" in proc.stdout, proc.stderr
    assert outputs[0] == "exit-code=1"


def test_gitlab_template_publishes_secret_detection_and_junit_reports() -> None:
    template = load(TEMPLATE)
    job = template["copera-secret-detection"]
    reports = job["artifacts"]["reports"]
    assert reports == {
        "secret_detection": "gl-secret-detection-report.json",
        "junit": "copera-secretscan-junit.xml",
    }
    assert job["artifacts"]["when"] == "always"  # a failing job still publishes its findings
    assert any("safe.directory" in line for line in job["before_script"])
    assert set(template["variables"]) >= {"COPERA_SECRETSCAN_ARGS", "COPERA_SECRETSCAN_PATHS"}


def test_the_gitlab_template_scan_command_runs(repo: Path) -> None:
    (repo / "ci.env").write_text(f"COPERA={make_token('cp_pat_', 32, seed=10)}\n")
    template = load(TEMPLATE)
    (command,) = template["copera-secret-detection"]["script"]
    for name, value in template["variables"].items():
        command = command.replace(f"${name}", value)
    argv = shlex.split(command)
    assert argv[0] == "copera-secretscan"
    assert main(argv[1:]) == 1
    validate_gitlab(json.loads((repo / "gl-secret-detection-report.json").read_text()))
    validate_junit((repo / "copera-secretscan-junit.xml").read_text(encoding="utf-8"))
