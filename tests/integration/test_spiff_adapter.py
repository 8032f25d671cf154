"""The SpiffWorkflow adapter's seam (issue 11): only engine/spiff/ imports SpiffWorkflow, every patch of
its internals is recorded against the upstream source it was written for, and the incremental save
cannot miss a change of a task's data."""

from __future__ import annotations

import ast
import copy
import inspect
import json
import random
import subprocess
import sys
from pathlib import Path

import hall
import pytest
from conftest import start_time
from hall.engine import Engine, FixedClock
from hall.engine.spiff import instance, parser, patches, scripts, serializer, timers
from hall.engine.spiff.instance import Instance
from hall.engine.spiff.parser import parse_bpmn
from hall.engine.spiff.patches import task_dict
from hall.engine.spiff.scripts import HallScriptEngine
from hall.engine.spiff.serializer import REGISTRY, dump
from SpiffWorkflow.task import Task

PACKAGE = Path(hall.__file__).resolve().parent
ADAPTER = PACKAGE / "engine" / "spiff"
# Not part of the installed package: the tests, and the benchmark (which runs raw SpiffWorkflow to
# compare hall with it).
OUTSIDE_PACKAGE = ("tests", "bench", "build", ".venv", "docs")


def package_modules(root: Path) -> list[Path]:
    """Every .py file of the `hall` package under `root` (the repository's top folder)."""
    return sorted(
        p
        for p in root.rglob("*.py")
        if not any(part in OUTSIDE_PACKAGE or part.startswith(".") for part in p.relative_to(root).parts[:-1])
    )


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, at any depth (function-level imports too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def spiffworkflow_importers(root: Path) -> list[str]:
    """`file:line: module` for each import of SpiffWorkflow outside engine/spiff/."""
    adapter = root / "engine" / "spiff"
    return [
        f"{path.relative_to(root)}:{line}: {module}"
        for path in package_modules(root)
        if adapter not in path.parents
        for line, module in imported_modules(path)
        if module.split(".")[0] == "SpiffWorkflow"
    ]


def test_only_the_adapter_imports_spiffworkflow() -> None:
    assert len(package_modules(PACKAGE)) > 20 and any(ADAPTER in p.parents for p in package_modules(PACKAGE))
    assert spiffworkflow_importers(PACKAGE) == []


def test_the_import_check_finds_an_import_outside_the_adapter(tmp_path: Path) -> None:
    (tmp_path / "engine" / "spiff").mkdir(parents=True)
    (tmp_path / "engine" / "spiff" / "ok.py").write_text("import SpiffWorkflow\n")
    (tmp_path / "engine" / "sneaky.py").write_text("def f():\n    from SpiffWorkflow.task import Task\n")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "raw.py").write_text("import SpiffWorkflow\n")
    assert spiffworkflow_importers(tmp_path) == ["engine/sneaky.py:2: SpiffWorkflow.task"]


def _relative_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of each relative import in a file, resolved against the hall package, at any depth."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            module = ".".join(["hall", *base, *([node.module] if node.module else [])])
            out.append((module, [a.name for a in node.names]))
    return out


def test_the_adapter_depends_on_no_engine_module_that_depends_on_it() -> None:
    """No cycle spiff -> definitions -> runtime -> spiff: the adapter imports (at any depth) only its own
    modules and the leaves `extensions`, `services`, `restricted` (the scripts' sandbox, issue 15) and
    `juel` (Camunda Modeler's conditions translated, issue 12);
    definitions no longer imports runtime."""
    allowed = {
        "hall.engine.extensions",
        "hall.engine.services",
        "hall.engine.restricted",
        "hall.engine.juel",
        "hall.engine.spiff",
    }
    for path in sorted(ADAPTER.glob("*.py")):
        for module, names in _relative_imports(path):
            targets = {module} if module != "hall.engine" else {f"hall.engine.{n}" for n in names}
            for target in targets:
                assert target in allowed or target.startswith("hall.engine.spiff."), f"{path.name} imports {target}"
    for leaf in ("extensions.py", "services.py", "restricted.py", "juel.py"):
        assert _relative_imports(PACKAGE / "engine" / leaf) == [], f"{leaf} must stay a leaf"
    definitions = {m for m, _ in _relative_imports(PACKAGE / "engine" / "definitions.py")}
    assert definitions == {"hall.engine.extensions", "hall.engine"}  # `from . import spiff`
    assert "runtime" not in {n for m, names in _relative_imports(PACKAGE / "engine" / "definitions.py") for n in names}


def test_no_private_name_crosses_the_adapter_seam() -> None:
    """The adapter, definitions and extensions import no `_private` name of another module, and none of
    theirs is imported elsewhere."""
    seam = [*ADAPTER.glob("*.py"), PACKAGE / "engine" / "definitions.py", PACKAGE / "engine" / "extensions.py"]
    for path in seam:
        for module, names in _relative_imports(path):
            assert not [n for n in names if n.startswith("_") and n != "__future__"], f"{path.name}: {module}"
    seam_modules = {"hall.engine.spiff", "hall.engine.definitions", "hall.engine.extensions"}
    for path in package_modules(PACKAGE):
        for module, names in _relative_imports(path):
            if module in seam_modules or module.startswith("hall.engine.spiff."):
                assert not [n for n in names if n.startswith("_")], f"{path.name} imports a private name of {module}"


# -- the patches of SpiffWorkflow's internals ----------------------------------------------------
def test_the_installed_spiffworkflow_is_the_one_the_patches_were_written_against() -> None:
    """Fails after an upgrade of SpiffWorkflow that changed what a patch copies, replaces or relies on:
    review that patch (engine/spiff/patches.py), then record the new hash."""
    problems = patches.check_upstream()
    assert problems == [], "\n".join(problems)


def test_a_changed_upstream_source_names_the_patch_to_review(monkeypatch: pytest.MonkeyPatch) -> None:
    real = patches.inspect.getsource

    def edited(obj: object) -> str:
        text = real(obj)
        return text + "    # changed upstream\n" if getattr(obj, "__name__", "") == "_set_state" else text

    problems = patches.check_upstream(source_of=edited)
    assert len(problems) == 1
    assert problems[0].startswith(
        "set_task_state (replaces Task._set_state): upstream SpiffWorkflow.task.Task._set_state"
    )
    assert "review the patch" in problems[0]
    # the global replacement does not hide the upstream function from the check
    assert Task._set_state is patches.set_task_state
    assert patches.upstream_object("SpiffWorkflow.task.Task._set_state") is not patches.set_task_state


def test_a_recorded_hash_that_differs_or_a_vanished_upstream_is_reported() -> None:
    first = patches.PATCHES[0]
    dotted = next(iter(first.upstream))
    wrong = patches.Patch(first.name, first.reason, {dotted: "0000000000000000"})
    gone = patches.Patch("a patch", "why", {"SpiffWorkflow.task.Task._no_such_method": "0000000000000000"})
    found = patches.check_upstream((wrong, gone))
    assert len(found) == 2
    assert found[0].startswith(f"{first.name}: upstream {dotted} changed")
    assert found[1].startswith("a patch: upstream SpiffWorkflow.task.Task._no_such_method is gone")


def test_every_patch_says_why_and_every_override_in_the_adapter_is_a_recorded_patch() -> None:
    """Classes of the adapter that override SpiffWorkflow methods do it in patches.py, each named by a
    Patch; elsewhere only SpiffWorkflow's documented hooks (a constructor, `call_service`, and a script
    environment's `evaluate` and `execute`, issue 15) are overridden."""
    assert all(p.reason and p.upstream for p in patches.PATCHES)
    named = " ".join(p.name for p in patches.PATCHES)
    for module in (patches, parser, scripts, timers, instance, serializer):
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            upstream = [b for b in cls.__mro__[1:] if b.__module__.startswith("SpiffWorkflow.")]
            overrides = [
                name
                for name, value in vars(cls).items()
                if callable(value) or isinstance(value, staticmethod)
                if any(name in vars(b) for b in upstream)
            ]
            if module is patches:
                assert not overrides or cls.__name__ in named, f"{cls.__name__} overrides {overrides}: add a Patch"
            else:
                hooks = {"__init__", "call_service"}
                if any(b.__name__ == "BasePythonScriptEngineEnvironment" for b in upstream):
                    hooks |= {"evaluate", "execute"}  # what the environment's base leaves to a subclass
                assert set(overrides) <= hooks, f"{module.__name__}.{cls.__name__}: {overrides}"


# -- the incremental save ------------------------------------------------------------------------
SCRIPT_THEN_TASK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="nested" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="first"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="bump" scriptFormat="python"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>record["inner"]["n"] = 2</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="second"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="bump" />
    <bpmn:sequenceFlow id="f3" sourceRef="bump" targetRef="second" />
    <bpmn:sequenceFlow id="f4" sourceRef="second" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _process():
    _parser, compiled = parse_bpmn({"nested.bpmn": SCRIPT_THEN_TASK.encode()})
    return compiled["nested"]


def _script_engine() -> HallScriptEngine:
    return HallScriptEngine({}, lambda *a: None, lambda *a: {"next": None})


def _rows_from_scratch(inst: Instance) -> dict[str, dict]:
    return {str(tid): json.loads(dump(task_dict(t, str, REGISTRY))) for tid, t in inst.wf.tasks.items()}


@pytest.fixture
def unverified(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fingerprint on its own: without HALL_VERIFY_SNAPSHOTS's full comparison behind it."""
    monkeypatch.setattr(serializer, "VERIFY_SNAPSHOTS", False)


def test_a_value_changed_in_place_at_the_same_size_is_saved_and_reloaded(unverified: None) -> None:
    process, engine = _process(), _script_engine()
    inst = Instance.new(process, engine, {"x": 1, "record": {"inner": {"n": 1}}})
    inst.run(lambda *a: None)
    [ready] = inst.ready_user_tasks()
    task = inst.wf.get_task_from_id(inst._store.task_id(ready.spiff_id))
    first = inst.snapshot()
    task.data["x"] = 2  # same length, same size, no state change
    second = inst.snapshot()
    assert second.tasks[ready.spiff_id] != first.tasks[ready.spiff_id]
    task.data = {"x": 3, "record": {"inner": {"n": 1}}}  # replaced by a dict of the same length
    third = inst.snapshot()
    assert third.tasks[ready.spiff_id] != second.tasks[ready.spiff_id]
    restored = Instance.restore(process, engine, third)
    assert restored.variables()["x"] == 3
    assert {k: json.loads(v) for k, v in third.tasks.items()} == _rows_from_scratch(inst)


def test_a_nested_value_changed_through_a_shared_container_reaches_the_stored_rows(unverified: None) -> None:
    """SpiffWorkflow copies a parent's data into a child one level deep: a script that changes a nested
    value changes it in the finished tasks above too, with no change of their state or sizes."""
    process, engine = _process(), _script_engine()
    inst = Instance.new(process, engine, {"record": {"inner": {"n": 1}}})
    inst.run(lambda *a: None)
    before = inst.snapshot()
    [first] = inst.ready_user_tasks()
    inst.complete_user_task(first.spiff_id, {})
    inst.run(lambda *a: None)  # the script sets record["inner"]["n"] = 2
    after = inst.snapshot()
    assert {k: json.loads(v) for k, v in after.tasks.items()} == _rows_from_scratch(inst)
    root = inst._key(inst.wf.task_tree.id)
    assert after.tasks[root] != before.tasks[root]  # the root stores the whole data: n is 2 there now
    restored = Instance.restore(process, engine, after)
    assert restored.variables()["record"] == {"inner": {"n": 2}}


def test_through_the_engine_a_reload_sees_the_nested_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serializer, "VERIFY_SNAPSHOTS", False)
    (tmp_path / "nested.bpmn").write_text(SCRIPT_THEN_TASK)
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    with Engine(url, clock=FixedClock(start_time()), forms_dir=None) as eng:
        eng.init()
        eng.deploy([tmp_path / "nested.bpmn"])
        case = eng.start("nested", None, {"record": {"inner": {"n": 1}}})
        case = eng.complete(case["tasks"][0]["id"], {})
        assert case["variables"]["record"] == {"inner": {"n": 2}}
    with Engine(url, clock=FixedClock(start_time()), forms_dir=None) as fresh:  # loaded from the rows
        case = fresh.complete(case["tasks"][0]["id"], {})
    assert case["status"] == "completed" and case["variables"]["record"] == {"inner": {"n": 2}}


def test_no_change_of_any_kind_is_missed_by_the_incremental_save(unverified: None) -> None:
    """Random changes to every task's data and internal data (same sizes, equal-but-different types
    such as 1/True/1.0 and lists/tuples, nested values, keys swapped): after each, the incremental
    rows are exactly the rows made from scratch."""
    rnd = random.Random(11)
    process, engine = _process(), _script_engine()
    inst = Instance.new(process, engine, {"x": 1, "record": {"inner": {"n": 1}}, "items": [1, 2]})
    inst.run(lambda *a: None)
    inst.snapshot()
    values = [1, True, 1.0, 2, "1", "2", None, [1, 2], (1, 2), {"n": 1}, {"n": True}, [[1]], ""]
    for _ in range(400):
        task = rnd.choice(list(inst.wf.tasks.values()))
        target = task.data if rnd.random() < 0.8 else task.internal_data
        kind = rnd.randrange(4)
        if kind == 0:
            target[rnd.choice(["x", "y", "items"])] = copy.deepcopy(rnd.choice(values))
        elif kind == 1 and isinstance(target.get("record"), dict):
            target["record"].setdefault("inner", {})["n"] = copy.deepcopy(rnd.choice(values))  # shared with kin
        elif kind == 2 and isinstance(target.get("items"), list) and target["items"]:
            target["items"][0] = copy.deepcopy(rnd.choice(values))
        elif target:
            key = rnd.choice(list(target))
            target[key + "_"] = target.pop(key)  # the same size, another key
        snap = inst.snapshot()
        assert {k: json.loads(v) for k, v in snap.tasks.items()} == _rows_from_scratch(inst)


def test_reading_commands_do_not_load_spiffworkflow() -> None:
    """The engine, the CLI and definitions load without SpiffWorkflow (about 50 ms): only a step that
    runs an instance, or a check that parses a diagram, imports the adapter (and definitions imports
    it inside `Checker.check` for that reason, not to hide a cycle)."""
    code = (
        "import sys, hall.engine, hall.engine.api, hall.engine.runtime, hall.engine.definitions, hall.cli\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('SpiffWorkflow')}))\n"
        "import hall.engine.spiff\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('SpiffWorkflow')}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["[]", "['SpiffWorkflow']"]
