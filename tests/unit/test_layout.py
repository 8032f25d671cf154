"""The package's layout holds (issue 11): no import cycle between hall's modules, no private name
imported from another module, and the dependency direction CLI -> servicehall -> engine.

Read from the source with ast, so nothing is imported or run.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE_FOLDERS = ("engine", "servicehall", "server", "terminal")
TOP_MODULES = ("__init__.py", "cli.py", "client.py")


def package_modules() -> dict[str, Path]:
    """Every module of the installed package `hall`, by dotted name."""
    paths = [ROOT / name for name in TOP_MODULES]
    for folder in PACKAGE_FOLDERS:
        paths += sorted((ROOT / folder).rglob("*.py"))
    out = {}
    for path in paths:
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if "migrations" in parts:  # Alembic's scripts, loaded by Alembic from files
            continue
        out[".".join(("hall", *parts))] = path
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Lines inside `if TYPE_CHECKING:` blocks: imports there never run."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for inner in node.body:
                for sub in ast.walk(inner):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[int, str, str | None]]:
    """(line, hall module, name taken from it or None) of each import that runs, function-level too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_lines(tree)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None) for a in node.names if a.name in known]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            if base not in known:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((node.lineno, sub, None) if sub in known else (node.lineno, base, alias.name))
    return out


def graph() -> dict[str, set[str]]:
    """Which hall module imports which (importing a submodule runs its packages' __init__ too)."""
    modules = package_modules()
    known = set(modules)
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for _line, target, _name in imports_of(module, path, known):
            parts = target.split(".")
            for i in range(2, len(parts) + 1):
                name = ".".join(parts[:i])
                if name in known and name != module and not module.startswith(name + "."):
                    edges[module].add(name)
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_halls_modules() -> None:
    assert find_cycle(graph()) is None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_private_name_is_imported_from_another_module() -> None:
    modules = package_modules()
    known = set(modules)
    crossing = [
        f"{path.relative_to(ROOT)}:{line}: {name} from {target}"
        for module, path in modules.items()
        for line, target, name in imports_of(module, path, known)
        if name is not None and name.startswith("_") and not name.startswith("__")
    ]
    assert crossing == []


def test_dependencies_point_one_way_cli_servicehall_engine() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in graph().items()
        for target in targets
        if (module.startswith("hall.engine") and not target.startswith("hall.engine"))
        or (module.startswith("hall.servicehall") and target in ("hall.cli", "hall.server", "hall.client"))
        or (module.startswith("hall.server") and target == "hall.cli")
        # the client of `hall serve` is the light path: nothing of the engine (SQLAlchemy, SpiffWorkflow)
        # but its plain-Python forms, that a prompt in client mode asks as on the database
        or (module == "hall.client" and target not in ("hall", "hall.engine", "hall.engine.forms"))
        # what people see at a terminal (tables, times, prompts, translation) serves the CLI and the
        # hall's papers, and knows only the engine
        or (module.startswith("hall.terminal") and (target == "hall.cli" or target.startswith("hall.servicehall")))
    ]
    assert wrong == []
