"""Data flows one way: sources → engine → allow-list → report → CLI. Imports must agree.

Read the import statements of each module (no import side effects) and check that the engine
never reaches for git, files or click, and that only the CLI imports click.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
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


# The import graph: every module of the package and the package modules each one imports,
# lazy imports inside functions included, relative and absolute spellings alike.

ROOT = PACKAGE.name
LEAN_ENTRIES = (f"{ROOT}.hook", f"{ROOT}.entry", f"{ROOT}.fastpath")
HEAVY_FOR_THE_HOOK = {"click", "dataclasses"}


def module_files() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package's ``__init__``)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = (ROOT, *path.relative_to(PACKAGE).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def resolved(node: ast.Import | ast.ImportFrom, name: str, is_package: bool) -> list[str]:
    """The dotted names an import statement of module ``name`` loads (outside ones included)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        here = name.split(".") if is_package else name.split(".")[:-1]
        anchor = here[: len(here) - node.level + 1]
        base = ".".join([*anchor, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def within(dotted: str, known: dict[str, tuple[Path, bool]]) -> str | None:
    """The package module that ``dotted`` names (``pkg.mod.Class`` -> ``pkg.mod``), if any."""
    while dotted and dotted not in known:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def statements(tree: ast.Module, lazy: bool) -> list[ast.Import | ast.ImportFrom]:
    """Import statements: all of them, or (``lazy=False``) those run when the module loads:
    not inside a function, nor under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif not lazy and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif not lazy and isinstance(node, ast.If) and _type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_graph(lazy: bool = True) -> dict[str, tuple[set[str], set[str]]]:
    """Module -> (package modules it imports, top-level names of outside modules it imports)."""
    known = module_files()
    graph = {}
    for name, (path, is_package) in known.items():
        inside: set[str] = set()
        outside: set[str] = set()
        for node in statements(ast.parse(path.read_text()), lazy):
            for dotted in resolved(node, name, is_package):
                target = within(dotted, known)
                if target is not None:
                    inside.add(target)
                elif not dotted.startswith(f"{ROOT}.") and dotted:
                    outside.add(dotted.split(".")[0])
        graph[name] = (inside - {name}, outside)
    return graph


def a_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_every_spelling_of_an_import() -> None:
    """Guards the test itself: relative, absolute and lazy imports are all edges."""
    graph = import_graph()
    assert f"{ROOT}.walk" in graph[f"{ROOT}.sources"][0]  # from .walk import walk
    assert f"{ROOT}.cli" in graph[f"{ROOT}.entry"][0]  # lazy, inside a function
    assert f"{ROOT}.report.grouped" in graph[f"{ROOT}.report.text"][0]  # from . import grouped
    assert f"{ROOT}.models" in graph[f"{ROOT}.report.text"][0]  # from ..models import …
    assert a_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_import_graph_has_no_cycles() -> None:
    edges = {name: inside for name, (inside, _) in import_graph().items()}
    assert a_cycle(edges) is None


def lean_closure() -> dict[str, set[str]]:
    """Every package module the lean hook path loads (parent packages included), with the
    outside modules each imports when it loads."""
    graph = import_graph(lazy=False)
    loaded: dict[str, set[str]] = {}
    pending = list(LEAN_ENTRIES)
    while pending:
        name = pending.pop()
        if name in loaded:
            continue
        inside, outside = graph[name]
        loaded[name] = outside
        parents = [name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)]
        pending.extend([*inside, *parents])
    return loaded


def test_the_lean_hook_path_imports_neither_click_nor_dataclasses() -> None:
    heavy = {name: found & HEAVY_FOR_THE_HOOK for name, found in lean_closure().items()}
    assert not {name: found for name, found in heavy.items() if found}


def test_loading_the_lean_hook_path_loads_neither_click_nor_dataclasses() -> None:
    """The same, as the interpreter sees it: an outside module could import them too."""
    probe = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in LEAN_ENTRIES)
        + f"print(sorted(m for m in {sorted(HEAVY_FOR_THE_HOOK)!r} if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert proc.stdout == "[]\n"


OUTSIDE_CITATION = re.compile(r"\b(CONTRACTS|USERS)\.md\b")
TIMING = re.compile(r"~\s?\d|\d\s?(ms|µs|ns)\b|\d(\.\d+)?x (as )?fast|\d\s?% faster")


def docstrings() -> dict[str, str]:
    """``module:line`` -> docstring, for every module, class and function of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            text = ast.get_docstring(node) if isinstance(node, kinds) else None
            if text:
                found[f"{path.relative_to(PACKAGE)}:{getattr(node, 'lineno', 1)}"] = text
    return found


def test_docstrings_cite_nothing_outside_the_repository_and_quote_no_timings() -> None:
    """Docstrings say why; figures go stale and live in benchmarks/."""
    cited = {where for where, text in docstrings().items() if OUTSIDE_CITATION.search(text)}
    timed = {where for where, text in docstrings().items() if TIMING.search(text)}
    assert not cited
    assert not timed
