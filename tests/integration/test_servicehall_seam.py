"""The seam between the generic engine and the service hall's own logic (issue 11).

`hall.engine` imports nothing of `hall.servicehall` or `hall.cli`; `hall.servicehall` uses the engine
only through its public API (no private name, no store module); and the engine runs a foreign
diagram with nothing of the hall configured, purge included.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import FIXTURES
from hall.engine import Engine
from hall.engine.errors import HallError, InstanceNotFound

PACKAGE = Path(__file__).resolve().parents[2]  # the `hall` package (the repository's top folder)
# the engine's store modules: the hall reaches their SQL only through Engine methods
STORE_MODULES = ("hall.engine.store", "hall.engine.jobs")


def modules(folder: str) -> dict[str, Path]:
    """Every module of a sub-package of `hall`, by dotted name."""
    out = {}
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(("hall", *parts))] = path
    return out


def imports(module: str, path: Path) -> list[tuple[int, str, str | None]]:
    """(line, imported module, imported name or None) of every import in a module, anywhere in it
    (function-level and TYPE_CHECKING ones too), relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    out: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                # `from ..engine import kpistore` imports a module: count it as `hall.engine.kpistore`
                out.append((node.lineno, base, alias.name))
                out.append((node.lineno, f"{base}.{alias.name}", None))
    return out


def under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_engine_imports_nothing_of_the_hall_nor_the_command_line() -> None:
    found = [
        f"{module}:{line}: imports {name}"
        for module, path in modules("engine").items()
        for line, name, _ in imports(module, path)
        if under(name, "hall.servicehall") or under(name, "hall.cli")
    ]
    assert found == []


def test_the_hall_uses_only_the_engines_public_api() -> None:
    found = []
    for module, path in modules("servicehall").items():
        for line, name, what in imports(module, path):
            if not under(name, "hall.engine"):
                continue
            if any(under(name, store) for store in STORE_MODULES):
                found.append(f"{module}:{line}: imports the store module {name}")
            elif what is None and any(p.startswith("_") for p in name.split(".")):
                found.append(f"{module}:{line}: imports the private module {name}")
            elif what is not None and what.startswith("_") and not what.startswith("__"):
                found.append(f"{module}:{line}: imports the private name {name}.{what}")
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):  # engine._tx, eng.store: private or store attributes of the engine
            if (
                isinstance(node, ast.Attribute)
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
                and (node.attr == "store" or (node.attr.startswith("_") and not node.attr.startswith("__")))
            ):
                found.append(f"{module}:{node.lineno}: uses .{node.attr}")
    assert found == []


def test_the_import_checks_see_a_forbidden_import(tmp_path: Path) -> None:
    """The walker resolves relative, function-level and `from package import module` imports."""
    path = tmp_path / "retention.py"
    path.write_text(
        "def f():\n    from ..engine import kpistore\n    from ..engine.api import _int\n    import hall.cli\n",
        encoding="utf-8",
    )
    names = {(name, what) for _, name, what in imports("hall.servicehall.retention", path)}
    assert ("hall.engine.kpistore", None) in names
    assert ("hall.engine.api", "_int") in names
    assert ("hall.cli", None) in names


def test_a_foreign_diagram_runs_with_nothing_of_the_hall_configured(make_engine) -> None:
    """Deploy, start, complete and purge `review` (tests/fixtures) on an engine with no settings."""
    eng: Engine = make_engine(settings=None)
    eng.init()
    assert [d["process"] for d in eng.deploy([FIXTURES / "review.bpmn"])] == ["review"]
    case = eng.start("review", "R-1", {"amount": 2})
    case = eng.complete(case["tasks"][0]["id"], {"amount": "4"})
    case = eng.complete(case["tasks"][0]["id"], {"approved": True})
    assert case["status"] == "completed" and case["variables"]["total"] == 8
    running = eng.start("review", "R-2", {"amount": 1})

    later = eng.clock.now() + timedelta(seconds=1)
    # purge is generic: the caller names the cases, the engine keeps no retention floor of its own
    with pytest.raises(HallError, match=f"cases {running['id']} changed"):
        eng.purge_instances([case["id"], running["id"]], later)
    rows = eng.purge_instances([case["id"]], later, {case["id"]: {"retention": "none", "before": "now"}})
    assert rows["instances"] == 1 and rows["history"] > 0
    with pytest.raises(InstanceNotFound, match=f"instance {case['id']} was purged on"):
        eng.show(case["id"])
    assert eng.show(running["id"])["status"] == "running"
    with eng.reading() as read:
        assert read.table_counts()["instances"] == 1
        purged = read.events("review", "purged", [None], None, later + timedelta(seconds=1))
    # the caller's detail, and who could see the case (to whom `show` of its id tells of the purge)
    seen_by = {"confidential": False, "first_receivers": [], "tasks": [{"role": "clerk", "lane": "clerk"}]}
    seen_by["tasks"].append({"role": "managers", "lane": "boss"})
    assert [(r[0], r[4]) for r in purged] == [(case["id"], {"retention": "none", "before": "now", "seen_by": seen_by})]


def test_the_halls_retention_applies_only_through_its_configuration(make_engine) -> None:
    """servicehall's purge plan keeps a foreign process forever (retention default `never`): the
    hall's floors (R-C9 complaints, R-F2 filings) come from servicehall, not from the engine."""
    from datetime import date

    from hall.servicehall import retention

    eng: Engine = make_engine(settings=None)
    eng.init()
    eng.deploy([FIXTURES / "review.bpmn"])
    case = eng.start("review", "R-1", {"amount": 2})
    case = eng.complete(case["tasks"][0]["id"], {"amount": "4"})
    case = eng.complete(case["tasks"][0]["id"], {"approved": True})
    eng.clock.set(eng.clock.now() + timedelta(days=400))
    plan = retention.plan_purge(eng, date.fromisoformat(f"{eng.clock.now():%Y-%m-%d}"))
    assert plan["delete"] == [] and [k["id"] for k in plan["kept"]] == [case["id"]]
    assert "kept forever" in plan["kept"][0]["reason"]


def test_the_engine_runs_without_loading_the_hall(tmp_path: Path) -> None:
    """An integrator's program that runs a diagram never imports hall.servicehall or hall.cli."""
    script = f"""
import sys
from hall import Engine
eng = Engine({str(tmp_path / "x.db")!r}, forms_dir={str(FIXTURES / "forms")!r})
eng.init()
eng.deploy([{str(FIXTURES / "review.bpmn")!r}])
case = eng.start("review", None, {{"amount": 1}})
eng.complete(case["tasks"][0]["id"], {{"amount": "1"}})
loaded = sorted(m for m in sys.modules if m.startswith(("hall.servicehall", "hall.cli")))
print(loaded)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_reading_every_case_needs_see_all_for_a_named_user(make_engine) -> None:
    """Engine.reading() hands out every case's history: a configured user needs `see_all`."""
    from hall.engine.errors import PermissionDenied

    roles = {"clerk": {"serves": ["clerk"]}, "boss": {"serves": ["boss"], "may": ["see_all"]}}
    users = [{"id": "ann", "roles": ["clerk"]}, {"id": "bob", "roles": ["boss"]}]
    eng: Engine = make_engine(settings={"roles": roles, "users": users})
    eng.init()
    with pytest.raises(PermissionDenied, match="see_all"), eng.reading(user="ann"):
        pass
    with eng.reading(user="bob") as read:
        assert read.table_counts()["instances"] == 0
    eng.require_user = True  # as the command line: actions need a user, the hall's own reads do not
    with eng.reading() as read:  # the system, after its own authorization
        assert read.finished_before(eng.clock.now()) == []
