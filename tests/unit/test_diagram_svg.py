"""The SVG renderer of `hall diagram` and `hall test --coverage` (issue 18): diagrams as Camunda
Modeler and bpmn.io export them, drawn at their DI coordinates with their Chinese labels; coverage
colours and the uncovered gateway branches."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import FIXTURES, ROOT
from hall.engine.diagram import Overlay, read_diagram, render
from hall.engine.diagram.coverage import measure, overlay
from hall.engine.diagram.model import Bounds, Diagram, Edge, Shape
from hall.engine.diagram.svg import fit_lines, label_bounds, text_width, wrap
from hall.engine.errors import DiagramUnreadable

SVG = "{http://www.w3.org/2000/svg}"
DIAGRAMS = FIXTURES / "diagrams"


def drawn(svg: str) -> dict[str, ElementTree.Element]:
    """The groups of the SVG by the element id they draw."""
    root = ElementTree.fromstring(svg.encode("utf-8"))
    return {g.get("data-element-id"): g for g in root.iter(f"{SVG}g") if g.get("data-element-id")}


def texts(el: ElementTree.Element) -> str:
    return "".join(t.text or "" for t in el.iter(f"{SVG}text"))


def test_a_camunda_modeler_export_is_read_with_pool_lanes_shapes_labels_and_waypoints() -> None:
    d = read_diagram(DIAGRAMS / "camunda_modeler.bpmn")
    kinds = {s.id: s.kind for s in d.shapes.values()}
    assert kinds["Participant_hall"] == "participant" and kinds["Lane_manager"] == "lane"
    assert kinds["Gateway_ok"] == "exclusiveGateway" and d.shapes["Gateway_ok"].marker
    late = d.shapes["Event_late"]
    assert (late.kind, late.events, late.interrupting) == ("boundaryEvent", ["timer"], False)
    register = d.shapes["Activity_register"]
    assert (register.bounds.x, register.bounds.y, register.bounds.w, register.bounds.h) == (300, 110, 100, 80)
    assert d.shapes["StartEvent_1"].label is not None and d.shapes["StartEvent_1"].label.y == 175
    assert d.edges["Flow_yes"].points == [(480, 175), (480, 340), (560, 340)] and d.edges["Flow_no"].default
    assert d.flows["cm_review"]["Flow_yes"] == ("Gateway_ok", "Activity_approve")
    assert set(d.nodes["cm_review"]) == {
        "StartEvent_1",
        "Activity_register",
        "Gateway_ok",
        "Activity_approve",
        "Event_done",
        "Event_late",
        "Event_escalated",
    }


def test_a_camunda_modeler_export_is_drawn_where_its_di_puts_each_shape() -> None:
    svg = render(read_diagram(DIAGRAMS / "camunda_modeler.bpmn"))
    groups = drawn(svg)
    rect = groups["Activity_register"].find(f"{SVG}rect")
    assert rect is not None and [rect.get(k) for k in ("x", "y", "width", "height", "rx")] == [
        "300.0",
        "110.0",
        "100.0",
        "80.0",
        "10",
    ]
    assert texts(groups["Activity_register"]) == "受理登记"
    assert "服务大厅" in texts(groups["Participant_hall"]) and "主管" in texts(groups["Lane_manager"])
    diamond = groups["Gateway_ok"].find(f"{SVG}polygon")
    assert diamond is not None and diamond.get("points") == "480.0,125.0 505.0,150.0 480.0,175.0 455.0,150.0"
    assert "材料齐全？" in texts(groups["Gateway_ok"])  # the label in its own bounds, above
    circles = groups["Event_late"].findall(f"{SVG}circle")
    assert len(circles) >= 3 and circles[0].get("stroke-dasharray")  # double ring, dashed, a clock
    edge = groups["Flow_yes"].find(f"{SVG}path")
    assert (
        edge is not None
        and edge.get("d") == "M480.0,175.0 L480.0,340.0 L560.0,340.0"
        and edge.get("marker-end") == "url(#arrow)"
    )
    root = ElementTree.fromstring(svg)
    x, y, w, h = (float(v) for v in (root.get("viewBox") or "").split())
    assert x <= 129 and y <= 60 and x + w >= 850 and y + h >= 430


def test_a_bpmn_io_export_with_bpmn2_prefix_subprocess_parallel_gateways_and_annotation() -> None:
    d = read_diagram(DIAGRAMS / "bpmn_io.bpmn")
    assert d.shapes["Activity_consult"].kind == "subProcess" and d.shapes["Activity_consult"].expanded
    assert d.shapes["Event_end"].events == ["message"]
    assert {"Event_sub_start", "Activity_answer"} <= set(d.nodes["io_visit"])
    groups = drawn(render(d))
    assert groups["Gateway_fork"].get("data-kind") == "parallelGateway"
    assert texts(groups["TextAnnotation_1"]) == "首问负责制"
    assert texts(groups["Activity_consult"]) == "咨询" and texts(groups["Activity_answer"]) == "答复咨询"
    # the expanded subprocess is drawn before (under) the shapes inside it
    order = list(groups)
    assert order.index("Activity_consult") < order.index("Activity_answer")


def test_the_halls_diagrams_render_every_shape_and_flow_of_their_di() -> None:
    for name in ("complaint", "filing", "suggestion", "suggestion_round", "callback_day", "archive_batch"):
        d = read_diagram(ROOT / "processes" / f"{name}.bpmn")
        groups = drawn(render(d))
        assert set(d.shapes) | set(d.edges) <= set(groups), name


def test_a_flow_is_a_group_with_its_id_and_kind_around_its_path_and_its_label() -> None:
    # bench/bpmnjs_compare.py reads every shape and flow back by these attributes
    groups = drawn(render(read_diagram(DIAGRAMS / "camunda_modeler.bpmn")))
    flow = groups["Flow_yes"]
    assert flow.get("data-kind") == "sequenceFlow" and flow.get("class") is None
    path = flow.find(f"{SVG}path")
    assert path is not None and path.get("d") == "M480.0,175.0 L480.0,340.0 L560.0,340.0"
    assert texts(flow) == "齐全"
    assert len(groups["Flow_no"].findall(f"{SVG}path")) == 2  # the default flow: its path and its slash


def test_chinese_labels_wrap_inside_the_shape_and_latin_words_stay_whole() -> None:
    assert text_width("受理登记") == 48 and text_width("ab") == pytest.approx(13.344)  # Arial's widths
    assert wrap("督办：超过处结时限的投诉", 90) == ["督办：超过处结", "时限的投诉"]
    assert wrap("Register the request", 80) == ["Register the", "request"]


def test_labels_break_where_bpmn_js_breaks_them() -> None:
    # what bpmn-js showed for the hall's diagrams in Chromium (bench/bpmnjs_compare.py)
    assert fit_lines("管理部门联系客户", 86) == ["管理部门联系", "客户"]  # a task: 100 px less 2 x 7 padding
    assert fit_lines("处结时限：5个工作日", 86) == ["处结时限：5", "个工作日"]
    assert fit_lines("Register the request", 86) == ["Register the", "request"]
    assert fit_lines("晨检开箱/闭店查阅", 81, 11) == ["晨检开箱/闭店", "查阅"]


def test_a_label_without_di_bounds_is_placed_where_bpmn_js_places_it() -> None:
    # bpmn-js's label boxes (x, y, width) for suggestion.bpmn, whose labels have no BPMNLabel
    start = Shape("start", "startEvent", "晨检开箱/闭店查阅", Bounds(252, 107, 36, 36))
    across = Edge("f1", "sequenceFlow", "有意见", [(595, 125), (670, 125)])
    down = Edge("f2", "sequenceFlow", "转管理部门", [(870, 150), (870, 345)])
    assert [(b.x, b.y, b.w) for b in map(label_bounds, (start, across, down))] == [
        (230, 143, 81),
        (616, 100, 33),
        (858, 238, 55),
    ]
    svg = render(Diagram({"start": start}, {"f2": down}, {}, {}, {}))
    assert texts(drawn(svg)["start"]) == "晨检开箱/闭店查阅" and ">晨检开箱/闭店</text>" in svg


def test_an_overlay_colours_states_and_adds_badges() -> None:
    d = read_diagram(DIAGRAMS / "camunda_modeler.bpmn")
    svg = render(
        d,
        Overlay(
            states={"Activity_register": "passed", "Activity_approve": "overdue"},
            edge_states={"Flow_yes": "passed"},
            badges={"Activity_approve": ["主管", "截止 11-25 09:00  逾期"]},
            title="cm_review v1 · 案件 7",
        ),
    )
    groups = drawn(svg)
    assert groups["Activity_register"].get("class") == "passed"
    assert groups["Activity_approve"].get("class") == "overdue"
    assert "截止 11-25 09:00  逾期" in svg and "cm_review v1 · 案件 7" in svg
    assert groups["Flow_yes"].get("class") == "passed"
    assert '<path d="M480.0,175.0 L480.0,340.0 L560.0,340.0" fill="none" stroke="#2e7d32"' in svg


def test_coverage_lists_the_gateway_branches_no_scenario_took() -> None:
    d = read_diagram(DIAGRAMS / "camunda_modeler.bpmn")
    cov = measure(
        d,
        "cm_review",
        {"StartEvent_1", "Activity_register", "Gateway_ok", "Event_done"},
        {
            ("StartEvent_1", "Activity_register"),
            ("Activity_register", "Gateway_ok"),
            ("Gateway_ok", "Event_done"),
        },
    )
    assert cov.branches == ["Flow_yes"]
    assert (sum(cov.nodes.values()), len(cov.nodes), sum(cov.flows.values()), len(cov.flows)) == (4, 7, 3, 6)
    assert cov.summary() == "cm_review: 4/7 flow nodes, 3/6 sequence flows, 53.8%"
    shown = overlay(cov)
    assert shown.states["Activity_approve"] == "uncovered" and shown.edge_states["Flow_no"] == "covered"


def test_a_parallel_join_counts_every_incoming_branch_both_of_whose_ends_were_reached() -> None:
    d = read_diagram(DIAGRAMS / "bpmn_io.bpmn")
    reached = {"StartEvent_1", "Gateway_fork", "Activity_number", "Activity_consult", "Gateway_join"}
    cov = measure(d, "io_visit", reached, {("Activity_number", "Gateway_join")})
    assert cov.flows["Flow_0c1"] and cov.flows["Flow_0c2"] and not cov.flows["Flow_0d1"]


def test_broken_xml_is_one_line_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.bpmn"
    bad.write_text('<?xml version="1.0"?>\n<definitions>\n  <process id="p">\n</definitions>\n')
    with pytest.raises(DiagramUnreadable, match=rf"^{bad}:4: not valid XML"):
        read_diagram(bad)
