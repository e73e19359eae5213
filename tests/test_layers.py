"""The package's shape holds: layers only import downwards, no import cycles, light imports.

Layers, lowest first: rag.core < rag.indexing < rag.retrieval < rag.answering <
rag.evaluation < rag.app. Imports are read from the source (every ``import`` and
``from ... import`` anywhere in a module, lazy ones included), so a violation fails here
before it can bite at run time.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LAYERS = ["core", "indexing", "retrieval", "answering", "evaluation", "app"]
PACKAGE = REPO / "rag"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The rag modules ``path`` imports (``from rag.x import y`` counts y when a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("rag"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if not base.startswith("rag"):
                continue
            found.add(base)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if _exists(candidate):
                    found.add(candidate)
    return found


def _exists(module: str) -> bool:
    path = REPO.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    return {
        _module_name(path): _imports(path)
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _layer(module: str) -> int | None:
    if module == "rag.__main__":
        return LAYERS.index("app")  # ``python -m rag``: the CLI's entry point
    parts = module.split(".")
    if len(parts) < 2 or parts[1] not in LAYERS:
        return None  # rag itself (the lazy public API) and top-level helpers
    return LAYERS.index(parts[1])


def test_every_module_lives_in_a_layer() -> None:
    loose = [m for m in _graph() if m != "rag" and _layer(m) is None]
    assert loose == [], f"modules outside the layers {LAYERS}: {loose}"


def test_lower_layers_never_import_upper_ones() -> None:
    upward = []
    for module, imports in _graph().items():
        mine = _layer(module)
        if mine is None:
            continue
        for target in imports:
            theirs = _layer(target)
            if theirs is not None and theirs > mine:
                upward.append(f"{module} imports {target}")
    assert upward == [], "layering broken:\n" + "\n".join(sorted(upward))


def test_no_import_cycles() -> None:
    graph = {m: {t for t in imports if t in _graph_modules()} for m, imports in _graph().items()}
    cycles = _cycles(graph)
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _graph_modules() -> set[str]:
    return {_module_name(path) for path in PACKAGE.rglob("*.py")}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component bigger than one module (Tarjan).

    A package's ``__init__`` importing its own modules (re-exports) is not a cycle.
    """
    edges = {
        m: {t for t in targets if t != m and m != t.rsplit(".", 1)[0]}
        for m, targets in graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_checks_see_a_violation() -> None:
    """The cycle finder and the layer rule are not vacuous."""
    assert _cycles({"rag.a.x": {"rag.a.y"}, "rag.a.y": {"rag.a.x"}}) == [["rag.a.x", "rag.a.y"]]
    assert _layer("rag.core.schema") == 0 and _layer("rag.app.cli") == LAYERS.index("app")
    imports = _imports(PACKAGE / "app" / "cli.py")
    assert any(t.startswith("rag.core") for t in imports)


def test_import_rag_and_its_public_names_load_no_torch() -> None:
    code = (
        "import sys, rag\n"
        "from rag import Settings, Answer, Citation, RagError\n"
        "import rag.core.schema, rag.core.citations, rag.core.runtime\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "assert 'sentence_transformers' not in sys.modules, 'sentence_transformers imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
