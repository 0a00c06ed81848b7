"""Data flows one way: sources → engine → allow-list → report → CLI. Imports must agree.

Read the import statements of each module (no import side effects) and check that the engine
never reaches for git, files or click, and that only the CLI imports click.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "copera_secretscan"
ENGINE = {
    "engine",
    "search",
    "heuristics",
    "rules",
    "models",
    "errors",
    "positions",
    "decoding",
    "boundary",
    "names",
}
FORBIDDEN_FOR_ENGINE = {
    "click",
    "subprocess",
    "git",
    "sources",
    "scanner",
    "cli",
    "report",
    "pathspec",
    "os",
    "config",
}


def imports(module: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = (node.module or "").split(".")[0]
            names.add(base if base else "")
            if node.level and not node.module:
                names.update(alias.name for alias in node.names)
            elif node.level:
                names.add(node.module.split(".")[0])  # type: ignore[union-attr]
    return names - {""}


def modules() -> dict[str, set[str]]:
    return {
        str(path.relative_to(PACKAGE).with_suffix("")).replace("/", "."): imports(path)
        for path in PACKAGE.rglob("*.py")
    }


def test_engine_knows_nothing_of_git_files_or_click() -> None:
    for name, imported in modules().items():
        if name in ENGINE:
            assert not imported & FORBIDDEN_FOR_ENGINE, (name, imported & FORBIDDEN_FOR_ENGINE)


def test_only_the_cli_imports_click() -> None:
    users = {name for name, imported in modules().items() if "click" in imported}
    assert users <= {"cli"} | {n for n in users if n.startswith("cli")}, users


def test_only_git_module_runs_subprocesses() -> None:
    users = {name for name, imported in modules().items() if "subprocess" in imported}
    assert users <= {"git", "entry", "parallel"}, users  # gitobjects streams via git.spawn
