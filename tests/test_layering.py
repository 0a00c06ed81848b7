"""Data flows one way: sources → pipeline (engine, allow-list, baseline) → report → CLI.

The import graph says whether the code agrees. Every module belongs to one layer; a module may
import its own layer's modules and any lower layer's, never a higher one and never another
layer of the same rank (sources and the engine know nothing of each other). The lean hook path
sits on top: it hands over to the CLI.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git, python_probe
from tests.tokens import make_token

PACKAGE = Path(__file__).resolve().parents[1] / "copera_secretscan"
ROOT = PACKAGE.name

# (rank, layer, the modules and packages in it), lowest first.
LAYERS = (
    (0, "base", ("kinds", "errors", "models", "atomic", "console", "argv")),
    (1, "engine", ("engine",)),
    (1, "sources", ("sources",)),
    (2, "config", ("config",)),
    (3, "baseline", ("baseline.records", "baseline.file")),
    (4, "pipeline", ("pipeline", "unpack", "parallel", "forkpool", "verify", "doctor", "remedy")),
    (5, "report", ("report",)),
    (5, "baseline workflows", ("baseline.audit",)),
    (6, "cli", ("cli",)),
    (7, "entry points", ("quick", "__main__")),
)
PARENTS = {ROOT, *(f"{ROOT}.{package}" for package in ("engine", "sources", "config", "baseline"))}


def layer_of(module: str) -> tuple[int, str]:
    """(rank, layer) of a dotted module name; the longest listed prefix wins."""
    best: tuple[int, str, int] | None = None
    for rank, layer, members in LAYERS:
        for member in members:
            full = f"{ROOT}.{member}"
            if (module == full or module.startswith(full + ".")) and (
                best is None or len(full) > best[2]
            ):
                best = (rank, layer, len(full))
    assert best is not None, f"{module} belongs to no layer: add it to LAYERS"
    return best[0], best[1]


def test_every_module_has_a_layer() -> None:
    for name in import_graph():
        if name not in PARENTS:
            layer_of(name)


def test_imports_go_one_way_down_the_layers() -> None:
    """cli → pipeline → sources and engine → models, lazy imports included."""
    wrong = []
    for name, (inside, _) in import_graph().items():
        if name in PARENTS:
            continue
        rank, layer = layer_of(name)
        for target in inside - PARENTS:
            their_rank, their_layer = layer_of(target)
            if their_layer != layer and their_rank >= rank:
                wrong.append(f"{name} ({layer}) imports {target} ({their_layer})")
    assert not wrong, "\n".join(sorted(wrong))


def test_package_inits_import_nothing_of_ours() -> None:
    """Importing ``sources.gitenv`` must not load every source: the lean path relies on it."""
    graph = import_graph()
    assert not {name: graph[name][0] for name in PARENTS - {ROOT} if graph[name][0]}


ENGINE_MUST_NOT_IMPORT = {"click", "subprocess", "pathspec", "os"}


def test_engine_knows_nothing_of_git_files_or_click() -> None:
    for name, (_, outside) in import_graph().items():
        if name.startswith(f"{ROOT}.engine"):
            assert not outside & ENGINE_MUST_NOT_IMPORT, (name, outside)


def test_only_the_cli_imports_click() -> None:
    users = {name for name, (_, outside) in import_graph().items() if "click" in outside}
    assert all(name.startswith(f"{ROOT}.cli") for name in users), users


def test_only_git_plumbing_runs_subprocesses() -> None:
    users = {name for name, (_, outside) in import_graph().items() if "subprocess" in outside}
    assert users <= {f"{ROOT}.sources.git", f"{ROOT}.sources.gitenv"}, users


# The import graph: every module of the package and the package modules each one imports,
# lazy imports inside functions included, relative and absolute spellings alike.

LEAN_ENTRIES = (f"{ROOT}.quick",)
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
    assert f"{ROOT}.sources.walk" in graph[f"{ROOT}.sources.files"][0]  # from .walk import walk
    assert f"{ROOT}.cli.main" in graph[f"{ROOT}.quick"][0]  # lazy, inside a function
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


def test_a_reported_leak_outside_git_without_excludes_never_loads_pathspec(
    tmp_path: Path,
) -> None:
    """The hook hands a file with a token to the full CLI, whose start-up is the cost the user
    waits for; pathspec is needed only where patterns are (a config's or ``--exclude``'s)."""
    leak = tmp_path / "leak.py"
    leak.write_text(f"KEY = '{make_token('cp_pat_', 32, seed=9)}'\n")
    probe = (
        "import sys\n"
        "from copera_secretscan.quick import hook_main\n"
        f"code = hook_main([{str(leak)!r}])\n"
        "print(code, 'pathspec' in sys.modules)"
    )
    proc = python_probe(probe, tmp_path)
    assert proc.stdout.splitlines()[-1] == "1 False", proc.stderr


@pytest.mark.parametrize("staged", [False, True])
def test_a_harmless_cp_is_dismissed_without_loading_click_or_dataclasses(
    tmp_path: Path, staged: bool
) -> None:
    """``tcp_keepalive``, ``scp_`` and a placeholder are words, not tokens: the lean path asks
    the engine (issue 14), and the CLI with its reports and dataclasses never loads."""
    (tmp_path / "net.py").write_text(
        "tcp_keepalive = 1\nscp_target = 'host:/srv'\nEXAMPLE = 'cp_pat_your_token_here'\n"
    )
    if staged:
        git(tmp_path, "init", "-q")
        git(tmp_path, "add", "net.py")
    probe = (
        "import sys\n"
        "from copera_secretscan.quick import hook_main\n"
        f"code = hook_main({[] if staged else ['net.py']!r})\n"
        f"print(code, sorted(m for m in {sorted(HEAVY_FOR_THE_HOOK)!r} if m in sys.modules))"
    )
    proc = python_probe(probe, tmp_path)
    assert proc.stdout.splitlines() == ["No Copera tokens found (1 file scanned).", "0 []"], (
        proc.stdout + proc.stderr
    )


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
