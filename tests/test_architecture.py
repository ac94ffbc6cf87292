"""The house rules of ``src/canarystats``, checked on the source itself.

A module a reader can hold in mind (at most 600 lines), functions of at most 100 lines, no
import cycle between modules (imports inside functions included: a cycle hidden in a function
is still a cycle), no private name imported from another module, library modules that neither
print nor parse arguments, and judging methods that are found through the registry only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "canarystats"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _type_checking_blocks(tree: ast.Module) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks (imports there are for annotations)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(module: str, tree: ast.Module) -> Iterator[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) of every run-time import."""
    skip = _type_checking_blocks(tree)
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name, node.lineno


def _internal_target(imported: str, name: str | None) -> str | None:
    """The canarystats module an import reads (a submodule named by ``from x import y`` too)."""
    if name is not None and f"{imported}.{name}" in MODULES:
        return f"{imported}.{name}"
    return imported if imported in MODULES else None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_longer_than_a_reader_holds_in_mind(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines; split it by what it holds"


def test_no_function_is_longer_than_a_screenful_or_two() -> None:
    long = []
    for module, path in MODULES.items():
        for node in ast.walk(_tree(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name} ({length} lines)")
    assert not long, "functions over 100 lines: " + ", ".join(long)


def test_no_private_name_is_imported_from_another_module() -> None:
    found = []
    for module, path in MODULES.items():
        for imported, name, line in _imports(module, _tree(path)):
            if not imported.startswith("canarystats"):
                continue
            private_module = any(p.startswith("_") for p in imported.split("."))
            dunder = name is not None and name.startswith("__") and name.endswith("__")
            if private_module or (name is not None and name.startswith("_") and not dunder):
                found.append(f"{module}:{line} imports {imported}.{name or ''}")
    assert not found, "; ".join(found)


def test_there_is_no_import_cycle_between_modules() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for imported, name, _ in _imports(module, _tree(path)):
            target = _internal_target(imported, name)
            # A package's __init__ importing its own submodules is how a package exports them.
            if target and target != module and not target.startswith(module + "."):
                graph[module].add(target)
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_library_modules_neither_print_nor_parse_arguments() -> None:
    found = []
    for module, path in MODULES.items():
        if module.startswith("canarystats.cli") or module == "canarystats.__main__":
            continue
        tree = _tree(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("print", "input"):
                found.append(f"{module}:{node.lineno} calls {ast.unparse(node.func)}")
        for imported, _, line in _imports(module, tree):
            if imported == "argparse":
                found.append(f"{module}:{line} imports argparse")
    assert not found, "; ".join(found)


def test_judgment_knows_no_method_by_name() -> None:
    text = (SRC / "judgment.py").read_text(encoding="utf-8")
    for name in ("hosts", "kayenta"):
        assert f'"{name}"' not in text, f"judgment.py branches on the {name} method"
