"""The CI recipes are real: action.yml and the GitLab template parse, and their scan commands run.

A recipe whose flags the shipped CLI rejects would fail every user's pipeline, so the scan step
of each is executed here against a repository with a token, and its reports are validated.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml

from copera_secretscan.cli.main import main
from tests.conftest import CHECKOUT, SNAPSHOT_PATHS, commit_all, git
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
    assert set(action["inputs"]) >= {"mode", "paths", "args", "sarif-file", "upload-sarif"}
    assert action["inputs"]["mode"]["default"] == "ci"  # the pushed commits, not the final tree
    assert action["runs"]["using"] == "composite"
    install = step(action, "install")
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


def test_the_action_leaves_the_callers_python_alone() -> None:
    """setup-python in a composite switches the Python of every later step of the caller's job;
    writing GITHUB_PATH or GITHUB_ENV would change their PATH or environment."""
    steps = load(ACTION)["runs"]["steps"]
    assert not [each for each in steps if "setup-python" in each.get("uses", "")]
    scripts = [each["run"] for each in steps if "run" in each]
    assert not [run for run in scripts if "GITHUB_PATH" in run or "GITHUB_ENV" in run]


USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(.*)$")
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s*#\s*v\d+(\.\d+)*\s*$")


def test_every_action_the_action_uses_is_pinned_to_a_commit_with_its_version() -> None:
    """A tag can be moved to other code; a full commit SHA cannot. The comment says which
    release the SHA is, for the reader and for Dependabot."""
    uses = [USES.match(line) for line in ACTION.read_text(encoding="utf-8").splitlines()]
    found = [match for match in uses if match]
    assert found, "the action uses no other action: the test would prove nothing"
    for match in found:
        assert PINNED.match(match.group(1)), match.group(0)
        assert VERSION_COMMENT.match(match.group(2)), match.group(0)


def test_the_sarif_upload_is_opt_in() -> None:
    """The upload fails on repositories without code scanning: off unless asked for."""
    action = load(ACTION)
    assert action["inputs"]["upload-sarif"]["default"] == "false"
    assert (
        "inputs.upload-sarif == 'true'" in step(action, "github/codeql-action/upload-sarif")["if"]
    )


def test_the_install_step_makes_its_own_venv_and_leaves_path_and_python3_alone(
    tmp_path: Path, repo: Path
) -> None:
    """The install step, run for real by bash as the runner does, against a copy of this
    checkout; then the scan step with the scanner it installed."""
    action_path = tmp_path / "action"
    action_path.mkdir()
    for name in SNAPSHOT_PATHS:  # what pip needs to build the package, as in the action's repo
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(
                source, action_path / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, action_path / name)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    files = {
        name: tmp_path / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_ENV")
    }
    env = {
        **os.environ,
        **{name: str(path) for name, path in files.items()},
        "RUNNER_TEMP": str(runner_temp),
        "ACTION_PATH": str(action_path),
        "INPUT_PYTHON": load(ACTION)["inputs"]["python"]["default"],
    }
    caller = '\necho "PATH=$PATH"; echo "python3=$(command -v python3)"\n'
    before = subprocess.run(["bash", "-c", caller], env=env, capture_output=True, text=True)
    script = step(load(ACTION), "install")["run"]
    proc = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", script + caller],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-2:] == before.stdout.splitlines()
    assert not files["GITHUB_PATH"].exists() and not files["GITHUB_ENV"].exists()
    (output,) = files["GITHUB_OUTPUT"].read_text().splitlines()
    scanner = Path(output.removeprefix("scanner="))
    assert scanner.parent.parent == runner_temp / "copera-secretscan-venv"
    assert (runner_temp / "copera-secretscan-venv" / "pyvenv.cfg").is_file()

    (repo / "app.env").write_text(f"COPERA={make_token('cp_key_', 32, seed=12)}\n")
    proc, outputs = run_action_scan(repo, scanner=scanner, mode="tree", format="text")
    assert "app.env:1:8" in proc.stdout, proc.stderr
    assert outputs[0] == "exit-code=1"


def run_action_scan(
    repo: Path, scanner: Optional[Path] = None, env: Optional[Dict[str, str]] = None, **inputs: str
) -> Tuple[subprocess.CompletedProcess, List[str]]:
    """The scan step's script, as the runner runs it: inputs (defaults from action.yml) in env."""
    action = load(ACTION)
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    values.update(inputs)
    outputs = repo.parent / "github_output"
    outputs.unlink(missing_ok=True)
    run_env = {
        **(env if env is not None else os.environ),
        "GITHUB_OUTPUT": str(outputs),
        "SCANNER": str(scanner or Path(sys.executable).parent / "copera-secretscan"),
        **{f"INPUT_{name.upper().replace('-', '_')}": value for name, value in values.items()},
    }
    script = step(action, "scan")["run"]
    proc = subprocess.run(
        ["bash", "-c", script], cwd=repo, env=run_env, capture_output=True, text=True
    )
    return proc, outputs.read_text().splitlines()


def test_the_action_scans_the_tree_when_asked(repo: Path) -> None:
    (repo / "app.env").write_text(f"COPERA={make_token('cp_key_', 32, seed=9)}\n")
    proc, outputs = run_action_scan(repo, mode="tree")
    assert proc.returncode == 0, proc.stderr  # the gate step fails the job, not this one
    assert "::error file=app.env,line=1" in proc.stdout
    assert outputs == ["exit-code=1", "sarif-file=copera-secretscan.sarif"]
    validate_sarif(json.loads((repo / "copera-secretscan.sarif").read_text()))


def test_the_action_takes_git_modes_in_args(repo: Path) -> None:
    (repo / "staged.env").write_text(f"COPERA={make_token('cp_oat_', 32, seed=11)}\n")
    git(repo, "add", "staged.env")
    proc, outputs = run_action_scan(repo, mode="tree", args="--staged", format="text")
    assert "staged.env:1:8: Copera MCP OAuth token" in proc.stdout, proc.stderr
    assert outputs[0] == "exit-code=1"


def test_the_action_refuses_an_unknown_mode_in_one_line(repo: Path) -> None:
    proc, outputs = run_action_scan(repo, mode="everything")
    assert (
        proc.stdout
        == "::error::copera-secretscan: mode must be ci, tree or both, not 'everything'\n"
    )
    assert outputs == ["exit-code=2"]


def added_then_deleted(repo: Path) -> Tuple[str, str]:
    """A push of two commits: the first adds a token, the second deletes it (base, head)."""
    (repo / "README").write_text("hello\n")
    base = commit_all(repo, "start")
    (repo / "leak.py").write_text(f"TOKEN = '{make_token('cp_pat_', 32, seed=13)}'\n")
    commit_all(repo, "add leak")
    (repo / "leak.py").unlink()
    return base, commit_all(repo, "remove leak")


def ci_free_env() -> Dict[str, str]:
    """This process's environment without any CI provider's variables (CI may run this)."""
    prefixes = ("GITHUB_", "GITLAB_", "CI_", "BITBUCKET_", "JENKINS_", "BUILD_", "SYSTEM_")
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(prefixes) and name not in ("CI", "TF_BUILD", "GITHUB_ACTIONS")
    }


def test_the_action_by_default_fails_on_a_token_added_and_deleted_within_the_push(
    repo: Path, tmp_path: Path
) -> None:
    """Needs `scan --ci`: the final tree is clean, the pushed commits are not."""
    base, head = added_then_deleted(repo)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"before": base, "after": head, "ref": "refs/heads/main"}))
    github = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": head,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_WORKSPACE": str(repo),
    }
    env = {**ci_free_env(), **github}
    proc, outputs = run_action_scan(repo, env=env, mode="tree", format="text")
    assert outputs[0] == "exit-code=0", proc.stdout + proc.stderr  # what the old action saw
    proc, outputs = run_action_scan(repo, env=env, format="text")
    assert "leak.py" in proc.stdout, proc.stdout + proc.stderr
    assert outputs == ["exit-code=1", "sarif-file=copera-secretscan.sarif"]
    proc, outputs = run_action_scan(repo, env=env, mode="both", format="text")
    assert outputs[0] == "exit-code=1", proc.stdout + proc.stderr


def test_gitlab_template_publishes_secret_detection_and_junit_reports() -> None:
    template = load(TEMPLATE)
    base = template[".copera-secretscan"]
    assert base["artifacts"]["reports"] == {
        "secret_detection": "gl-secret-detection-report.json",
        "junit": "copera-secretscan-junit.xml",
    }
    assert base["artifacts"]["when"] == "always"  # a failing job still publishes its findings
    assert any("safe.directory" in line for line in base["before_script"])
    for name in ("copera-secret-detection", "copera-secret-detection-tree"):
        assert template[name]["extends"] == ".copera-secretscan"
    assert template["copera-secret-detection"]["script"][0].startswith(
        "copera-secretscan scan --ci "
    )
    assert set(template["variables"]) >= {"COPERA_SECRETSCAN_ARGS", "COPERA_SECRETSCAN_PATHS"}


def expand(text: str, variables: Dict[str, str]) -> str:
    """GitLab's (and the shell's) $NAME and ${NAME} expansion, for the template's variables."""
    return re.sub(r"\$\{?(\w+)\}?", lambda match: variables.get(match.group(1), ""), text)


def test_gitlab_template_installs_a_pinned_git_revision_never_a_bare_name() -> None:
    """A bare name would come from the package index, where this project publishes nothing and
    anyone could register it. The revision is one variable, a tag or a full commit SHA."""
    template = load(TEMPLATE)
    variables = template["variables"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", variables["COPERA_SECRETSCAN_REF"])
    installs = [line for line in template[".copera-secretscan"]["before_script"] if "pip" in line]
    (install,) = installs
    (requirement,) = shlex.split(expand(install, variables))[-1:]
    name, _, url = requirement.partition(" @ ")
    assert name == "copera-secretscan"
    assert url == (
        f"git+{variables['COPERA_SECRETSCAN_REPOSITORY']}@{variables['COPERA_SECRETSCAN_REF']}"
    )
    assert variables["COPERA_SECRETSCAN_REPOSITORY"].startswith("https://")


RULE_IF = re.compile(r"^\$(\w+) =~ /(.*)/(i?)$")


def job_added(rules: List[Dict[str, str]], variables: Dict[str, str]) -> Optional[str]:
    """GitLab's `rules:` for the one shape the template uses: the first rule whose
    `if: $NAME =~ /regex/i` matches (or that has no `if`) decides `when`; none: not added.
    An unset or empty variable never matches a regex that needs a character."""
    for rule in rules:
        condition = rule.get("if")
        if condition is not None:
            match = RULE_IF.match(condition)
            assert match, f"the evaluator does not know this rule: {condition}"
            name, pattern, flags = match.groups()
            if not re.search(pattern, variables.get(name, ""), re.I if flags else 0):
                continue
        when = rule.get("when", "on_success")
        return None if when == "never" else when
    return None


def test_the_gitlab_disable_rule_works_for_false_and_empty() -> None:
    template = load(TEMPLATE)
    rules = template["copera-secret-detection"]["rules"]
    for value in ("true", "TRUE", "1", "yes", "Yes"):
        assert job_added(rules, {"COPERA_SECRETSCAN_DISABLED": value}) is None, value
    for value in ("false", "", "0", "no", "untrue"):
        assert job_added(rules, {"COPERA_SECRETSCAN_DISABLED": value}) == "on_success", value
    assert job_added(rules, {}) == "on_success"
    assert job_added(rules, template["variables"]) == "on_success"  # the template's defaults


def test_the_gitlab_tree_job_runs_only_when_asked() -> None:
    template = load(TEMPLATE)
    rules = template["copera-secret-detection-tree"]["rules"]
    assert job_added(rules, template["variables"]) is None
    assert job_added(rules, {"COPERA_SECRETSCAN_TREE": "true"}) == "on_success"
    disabled = {"COPERA_SECRETSCAN_TREE": "true", "COPERA_SECRETSCAN_DISABLED": "yes"}
    assert job_added(rules, disabled) is None


def test_the_gitlab_image_is_pinned_and_the_range_job_fetches_everything() -> None:
    """A moving tag (python:3.12) changes the job under the user; a shallow clone (GitLab's
    default is 20 commits) can miss the base of a large push."""
    template = load(TEMPLATE)
    image = template[".copera-secretscan"]["image"]
    assert re.fullmatch(r"python:\d+\.\d+\.\d+(-[a-z]+)?(@sha256:[0-9a-f]{64})?", image), image
    assert template["copera-secret-detection"]["variables"]["GIT_DEPTH"] == "0"


def test_the_gitlab_tree_scan_command_runs(repo: Path) -> None:
    (repo / "ci.env").write_text(f"COPERA={make_token('cp_pat_', 32, seed=10)}\n")
    template = load(TEMPLATE)
    (command,) = template["copera-secret-detection-tree"]["script"]
    argv = shlex.split(expand(command, template["variables"]))
    assert argv[0] == "copera-secretscan"
    assert main(argv[1:]) == 1
    validate_gitlab(json.loads((repo / "gl-secret-detection-report.json").read_text()))
    validate_junit((repo / "copera-secretscan-junit.xml").read_text(encoding="utf-8"))


def test_the_gitlab_range_job_fails_on_a_token_added_and_deleted_within_the_push(
    repo: Path,
) -> None:
    """Needs `scan --ci`: the job's command, as GitLab's shell runs it, in a push pipeline."""
    base, head = added_then_deleted(repo)
    template = load(TEMPLATE)
    (command,) = template["copera-secret-detection"]["script"]
    gitlab = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": "push",
        "CI_COMMIT_BEFORE_SHA": base,
        "CI_COMMIT_SHA": head,
        "CI_COMMIT_BRANCH": "main",
        "CI_COMMIT_REF_NAME": "main",
        "CI_DEFAULT_BRANCH": "main",
        "CI_PROJECT_DIR": str(repo),
    }
    env = {
        **ci_free_env(),
        **template["variables"],
        **gitlab,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.run(
        ["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((repo / "gl-secret-detection-report.json").read_text())
    validate_gitlab(report)
    assert report["vulnerabilities"], report


def version_key(text: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3])


@pytest.mark.real_pre_commit
def test_ci_proves_the_minimum_pre_commit_the_manifest_and_readme_state() -> None:
    """`.ci/run` reruns the real-pre-commit tests (this one too) in a venv with the manifest's
    minimum, telling them so with COPERA_TEST_PRE_COMMIT=minimum; the main run has the newest."""
    from importlib.metadata import version

    script = CHECKOUT / ".ci" / "min_pre_commit.py"
    minimum = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, check=True
    ).stdout.strip()
    hooks = yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {hook["minimum_pre_commit_version"] for hook in hooks} == {minimum}
    assert f"pre-commit {minimum} or newer" in (CHECKOUT / "README.md").read_text(encoding="utf-8")
    run = (CHECKOUT / ".ci" / "run").read_text(encoding="utf-8")
    assert "$(python3 .ci/min_pre_commit.py)" in run and '"pre-commit==$min_pre_commit"' in run
    installed = version("pre-commit")
    assert version_key(installed) >= version_key(minimum)
    if os.environ.get("COPERA_TEST_PRE_COMMIT") == "minimum":
        assert installed == minimum


def yaml_blocks(markdown: str) -> List[Any]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", markdown, re.S)]


def test_the_readme_ci_snippets_parse_and_fetch_the_whole_range() -> None:
    """What a user copies must be valid YAML, and deep enough for `scan --ci`'s range."""
    readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## In CI\n") : readme.index("\n## Configuration\n")]
    github, gitlab = yaml_blocks(section)
    steps = github["jobs"]["scan"]["steps"]
    checkout = next(each for each in steps if each["uses"].startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    assert PINNED.match(checkout["uses"])
    assert any(each["uses"].endswith("/copera-secretscan@v0") for each in steps)
    assert gitlab["copera-secret-detection"]["variables"]["GIT_DEPTH"] == "0"
    (include,) = gitlab["include"]
    assert f"/{gitlab['variables']['COPERA_SECRETSCAN_REF']}/ci/" in include["remote"]
    assert "scan --ci --report junit:" in section  # the line for Jenkins, Azure, Bitbucket
    assert "(docs/ci.md)" in section
    for document in yaml_blocks((CHECKOUT / "docs" / "ci.md").read_text(encoding="utf-8")):
        assert document
