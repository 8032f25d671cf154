"""hall's diagrams against bpmn-js (issue 18): the same shapes at the same places, in a real browser.

For every diagram (processes/*.bpmn unless files are given) this renders it twice:

1. with bpmn-js's Viewer in headless Chromium: a small HTML page loads bpmn-viewer's UMD bundle from
   the npm folder (file://), imports the XML and writes every element's id, type and box (the
   elementRegistry: x, y, width, height; the waypoints of connections) into the page as JSON, which
   ``chromium --headless --dump-dom`` hands back;
2. with hall (``hall.engine.diagram.render``, the renderer of ``hall diagram`` and ``hall test
   --coverage``), reading each drawn element back from hall's SVG: the groups carry
   ``data-element-id`` and ``data-kind``; a shape's box is its outline (rect, circle, diamond), a
   flow's waypoints are its path.

Then it compares them: the same set of shapes and flows, of the same types, each box within
``--tolerance`` px (1 by default) and the same waypoints. The labels are compared as well: the text
of every element that has one is measured in the same browser in both renderings (hall's SVG is
inlined in the page); it must be broken into the same lines and its centre must lie within
``--label-tolerance`` px (3 by default: hall positions text from estimated widths, bpmn-js from
measured ones). One line per diagram, then the differences by
element id; exit status 1 on any difference.

With ``--out DIR`` it also writes screenshots of both renderings, at the same scale and viewport
(hall's viewBox), so a person can look at them side by side: DIR/NAME.bpmn-js.png and
DIR/NAME.hall.png (and hall's SVG, DIR/NAME.hall.svg).

One-time setup (Debian; bpmn-js lives outside the repository, nothing of it is committed):

    apt-get install -y chromium
    mkdir -p /tmp/bpmnjs-check && npm install --prefix /tmp/bpmnjs-check bpmn-js

Run:

    python bench/bpmnjs_compare.py --bpmn-js /tmp/bpmnjs-check --out /tmp/bpmnjs-shots
    python bench/bpmnjs_compare.py --bpmn-js /tmp/bpmnjs-check processes/complaint.bpmn

``--chromium`` names the browser binary (default: ``chromium``, or $CHROMIUM).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from hall.engine.diagram import read_diagram, render

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
BUNDLE = "node_modules/bpmn-js/dist/bpmn-viewer.production.min.js"
CONNECTIONS = {"sequenceFlow", "messageFlow", "association", "dataInputAssociation", "dataOutputAssociation"}


@dataclass
class Drawn:
    """One element as a renderer placed it: its type (BPMN tag name), box or waypoints, label centre."""

    id: str
    kind: str
    box: tuple[float, float, float, float] | None = None
    points: list[tuple[float, float]] | None = None
    label: tuple[float, float] | None = None  # centre of the element's text, in diagram coordinates
    text: str = ""
    lines: list[str] | None = None  # the label's lines, as wrapped


# The page: bpmn-js in #bpmnjs at hall's viewBox and scale 1, hall's SVG inlined in #hall below it.
# Every element's box comes from bpmn-js's elementRegistry, every text's box from the browser's layout.
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>html, body {{ margin: 0; background: #ffffff; }} #bpmnjs {{ width: {w}px; height: {h}px; }}
#hall {{ display: {hall_display}; }} #hall svg {{ display: block; }} #result {{ display: none; }}
.djs-container {{ background: #ffffff; }}</style>
<script src="{bundle}"></script></head>
<body><div id="bpmnjs" style="display: {bpmnjs_display}"></div><div id="hall">{hall_svg}</div><pre id="result"></pre>
<script>
const xml = {xml};
const viewbox = {viewbox};
function textCentre(nodes, toDiagram) {{
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity, text = "", lines = [];
  for (const t of nodes) {{
    const r = t.getBoundingClientRect();
    if (!t.textContent.trim() || r.width === 0) continue;
    text += t.textContent;
    const spans = t.querySelectorAll("tspan");
    for (const line of spans.length ? Array.from(spans) : [t]) lines.push(line.textContent.trim());
    x0 = Math.min(x0, r.left); y0 = Math.min(y0, r.top); x1 = Math.max(x1, r.right); y1 = Math.max(y1, r.bottom);
  }}
  if (!text) return null;
  const p = toDiagram((x0 + x1) / 2, (y0 + y1) / 2);
  return {{x: p[0], y: p[1], text: text, lines: lines}};
}}
function hallLabels() {{
  const svg = document.querySelector("#hall svg");
  if (!svg) return {{}};
  const r = svg.getBoundingClientRect();
  const toDiagram = (x, y) => [viewbox.x + (x - r.left), viewbox.y + (y - r.top)];
  const out = {{}};
  for (const g of svg.querySelectorAll("g[data-element-id]")) {{
    const c = textCentre(g.querySelectorAll("text"), toDiagram);
    if (c) out[g.getAttribute("data-element-id")] = c;
  }}
  return out;
}}
const viewer = new BpmnJS({{container: "#bpmnjs"}});
viewer.importXML(xml).then((result) => {{
  const canvas = viewer.get("canvas");
  canvas.viewbox({{x: viewbox.x, y: viewbox.y, width: viewbox.width, height: viewbox.height}});
  const vb = canvas.viewbox();
  const c = document.getElementById("bpmnjs").getBoundingClientRect();
  const toDiagram = (x, y) => [vb.x + (x - c.left) / vb.scale, vb.y + (y - c.top) / vb.scale];
  const registry = viewer.get("elementRegistry");
  const elements = [];
  for (const e of registry.getAll()) {{
    if (!e.businessObject || e === canvas.getRootElement()) continue;
    const item = {{id: e.id, type: e.type}};
    if (e.labelTarget) item.labelTarget = e.labelTarget.id;
    if (e.waypoints) item.waypoints = e.waypoints.map((p) => [p.x, p.y]);
    else item.box = [e.x, e.y, e.width, e.height];
    const gfx = registry.getGraphics(e);
    const visual = gfx && gfx.querySelector(":scope > .djs-visual");
    const label = visual ? textCentre(visual.querySelectorAll("text"), toDiagram) : null;
    if (label) item.label = label;
    elements.push(item);
  }}
  document.getElementById("result").textContent = JSON.stringify(
    {{warnings: result.warnings.map((w) => w.message), elements: elements, hall: hallLabels(),
      viewbox: {{x: vb.x, y: vb.y, width: vb.width, height: vb.height, scale: vb.scale}}}});
  document.title = "done";
}}).catch((err) => {{
  document.getElementById("result").textContent = JSON.stringify({{error: String(err)}});
}});
</script></body></html>
"""


def chromium(binary: str, page: Path, *args: str, size: tuple[int, int] | None = None) -> str:
    """Run headless Chromium on a page (its own throw-away profile, so runs in parallel do not meet);
    stdout back."""
    with tempfile.TemporaryDirectory(prefix="bpmnjs-profile-") as profile:
        cmd = [
            binary,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--allow-file-access-from-files",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            *([f"--window-size={size[0]},{size[1]}"] if size else []),
            *args,
            page.as_uri(),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def hall_svg(path: Path) -> str:
    """hall's rendering of a BPMN file, as `hall diagram PROCESS` draws it (no overlay)."""
    return render(read_diagram(path))


def hall_elements(svg: str) -> dict[str, Drawn]:
    """Every element hall drew, read back from its SVG: the groups with data-element-id; a shape's box
    from its outline, a connection's waypoints from its path."""
    root = ElementTree.fromstring(svg.encode("utf-8"))
    out: dict[str, Drawn] = {}
    for g in root.iter(f"{SVG}g"):
        eid, kind = g.get("data-element-id"), g.get("data-kind") or ""
        if not eid:
            continue
        item = Drawn(eid, kind)
        outline = next((c for c in g if c.tag in {f"{SVG}{t}" for t in ("rect", "circle", "polygon", "path")}), None)
        if kind in CONNECTIONS:
            path = g.find(f"{SVG}path")
            if path is not None:
                nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d") or "")]
                item.points = list(zip(nums[0::2], nums[1::2], strict=False))
        elif outline is not None:
            item.box = _outline_box(outline)
        out[eid] = item
    return out


def _outline_box(el: ElementTree.Element) -> tuple[float, float, float, float] | None:
    tag = el.tag.removeprefix(SVG)
    if tag == "rect":
        return tuple(float(el.get(k) or 0) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]
    if tag == "circle":
        cx, cy, r = (float(el.get(k) or 0) for k in ("cx", "cy", "r"))
        return (cx - r, cy - r, 2 * r, 2 * r)
    nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", el.get("points") or el.get("d") or "")]
    if len(nums) < 4:
        return None
    xs, ys = nums[0::2], nums[1::2]
    return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def bpmnjs_elements(data: dict) -> dict[str, Drawn]:
    """bpmn-js's elements (without the label elements, whose text counts for their target)."""
    out: dict[str, Drawn] = {}
    labels: dict[str, dict] = {}
    for e in data["elements"]:
        if e.get("labelTarget"):
            if e.get("label"):
                labels[e["labelTarget"]] = e["label"]
            continue
        kind = e["type"].split(":", 1)[-1]
        kind = kind[:1].lower() + kind[1:]
        item = Drawn(e["id"], kind)
        if "waypoints" in e:
            item.points = [(float(x), float(y)) for x, y in e["waypoints"]]
        else:
            item.box = tuple(float(v) for v in e["box"])  # type: ignore[assignment]
        if e.get("label"):
            item.label, item.text, item.lines = (
                (e["label"]["x"], e["label"]["y"]),
                e["label"]["text"],
                e["label"]["lines"],
            )
        out[e["id"]] = item
    for target, label in labels.items():
        if target in out:
            out[target].label, out[target].text = (label["x"], label["y"]), label["text"]
            out[target].lines = label["lines"]
    return out


def compare(js: dict[str, Drawn], ours: dict[str, Drawn], tolerance: float, label_tolerance: float) -> list[str]:
    """The differences between the two renderings, one line each, by element id."""
    diffs: list[str] = []
    for eid in sorted(set(js) - set(ours)):
        diffs.append(f"{eid}: drawn by bpmn-js ({js[eid].kind}), missing in hall")
    for eid in sorted(set(ours) - set(js)):
        diffs.append(f"{eid}: drawn by hall ({ours[eid].kind}), missing in bpmn-js")
    for eid in sorted(set(js) & set(ours)):
        a, b = js[eid], ours[eid]
        if a.kind != b.kind:
            diffs.append(f"{eid}: a {a.kind} in bpmn-js, a {b.kind} in hall")
        if a.points is not None or b.points is not None:
            pa, pb = a.points or [], b.points or []
            if len(pa) != len(pb) or any(
                abs(x1 - x2) > tolerance or abs(y1 - y2) > tolerance for (x1, y1), (x2, y2) in zip(pa, pb, strict=False)
            ):
                diffs.append(f"{eid}: waypoints {_points(pa)} in bpmn-js, {_points(pb)} in hall")
        elif a.box is None or b.box is None or any(abs(u - v) > tolerance for u, v in zip(a.box, b.box, strict=True)):
            diffs.append(f"{eid}: box {_box(a.box)} in bpmn-js, {_box(b.box)} in hall")
        if a.label is not None and b.label is None:
            diffs.append(f"{eid}: label {a.text!r} shown by bpmn-js, missing in hall")
        elif a.label is None and b.label is not None:
            diffs.append(f"{eid}: label {b.text!r} shown by hall, not by bpmn-js")
        elif a.label is not None and b.label is not None:
            dx, dy = b.label[0] - a.label[0], b.label[1] - a.label[1]
            if max(abs(dx), abs(dy)) > label_tolerance:
                diffs.append(
                    f"{eid}: label {a.text!r} centred at {_point(a.label)} in bpmn-js, {_point(b.label)} in hall"
                    f" ({dx:+.0f}, {dy:+.0f})"
                )
            if a.lines != b.lines:
                diffs.append(
                    f"{eid}: label lines {' / '.join(a.lines or [])} in bpmn-js, {' / '.join(b.lines or [])} in hall"
                )
    return diffs


def _box(b: tuple[float, float, float, float] | None) -> str:
    return "none" if b is None else "(" + ", ".join(f"{v:g}" for v in b) + ")"


def _point(p: tuple[float, float]) -> str:
    return f"({p[0]:.0f}, {p[1]:.0f})"


def _points(ps: list[tuple[float, float]]) -> str:
    return "[" + " ".join(f"{x:g},{y:g}" for x, y in ps) + "]"


def page(bundle: Path, xml: str, svg: str, viewbox: tuple[float, ...], show: str = "both") -> str:
    x, y, w, h = viewbox
    return PAGE.format(
        w=round(w),
        h=round(h),
        bundle=bundle.as_uri(),
        xml=json.dumps(xml),
        viewbox=json.dumps({"x": x, "y": y, "width": w, "height": h}),
        hall_svg=svg.split("?>", 1)[-1] if show in ("both", "hall") else "",
        hall_display="block" if show in ("both", "hall") else "none",
        bpmnjs_display="block" if show in ("both", "bpmnjs") else "none",
    )


def check(path: Path, args: argparse.Namespace, work: Path) -> tuple[str, list[str]]:
    """One diagram: its summary line and its differences."""
    name = path.stem
    xml = path.read_text(encoding="utf-8")
    svg = hall_svg(path)
    root = ElementTree.fromstring(svg.encode("utf-8"))
    viewbox = tuple(float(v) for v in (root.get("viewBox") or "0 0 100 100").split())
    bundle = Path(args.bpmn_js).resolve() / BUNDLE
    html_file = work / f"{name}.html"
    html_file.write_text(page(bundle, xml, svg, viewbox), encoding="utf-8")
    dom = chromium(args.chromium, html_file, "--dump-dom")
    found = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    if not found or not found.group(1).strip():
        raise RuntimeError(f"{path}: bpmn-js wrote no result (did the bundle load from {bundle}?)")
    data = json.loads(html.unescape(found.group(1)))
    if "error" in data:
        raise RuntimeError(f"{path}: bpmn-js could not import it: {data['error']}")
    js = bpmnjs_elements(data)
    ours = hall_elements(svg)
    for eid, label in data["hall"].items():
        if eid in ours:
            ours[eid].label, ours[eid].text = (label["x"], label["y"]), label["text"]
            ours[eid].lines = label["lines"]
    diffs = [f"bpmn-js warns: {w}" for w in data["warnings"]]
    diffs += compare(js, ours, args.tolerance, args.label_tolerance)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.hall.svg").write_text(svg, encoding="utf-8")
        size = (round(viewbox[2]), round(viewbox[3]))
        for show, png in (("bpmnjs", "bpmn-js"), ("hall", "hall")):
            shot = work / f"{name}.{show}.html"
            shot.write_text(page(bundle, xml, svg, viewbox, show), encoding="utf-8")
            chromium(args.chromium, shot, f"--screenshot={(out / f'{name}.{png}.png').resolve()}", size=size)
    shapes = sum(1 for d in js.values() if d.points is None)
    flows = len(js) - shapes
    labels = sum(1 for d in js.values() if d.label is not None)
    where = "all at the same places" if not diffs else f"{len(diffs)} difference{'s' if len(diffs) != 1 else ''}"
    return f"{name}: {shapes} shapes, {flows} flows, {labels} labels, {where}", diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="BPMN files (default: processes/*.bpmn)")
    parser.add_argument("--bpmn-js", required=True, help="the npm folder bpmn-js was installed into")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"), help="the browser")
    parser.add_argument("--out", help="write screenshots of both renderings (PNG) and hall's SVG here")
    parser.add_argument("--tolerance", type=float, default=1.0, help="px, for boxes and waypoints")
    parser.add_argument("--label-tolerance", type=float, default=3.0, help="px, for the centres of labels")
    args = parser.parse_args(argv)
    if not (Path(args.bpmn_js) / BUNDLE).is_file():
        parser.error(f"no {BUNDLE} in {args.bpmn_js}: npm install --prefix {args.bpmn_js} bpmn-js")
    if not shutil.which(args.chromium):
        parser.error(f"no browser {args.chromium!r}: apt-get install -y chromium")
    files = args.files or sorted((ROOT / "processes").glob("*.bpmn"))
    failed = False
    with tempfile.TemporaryDirectory(prefix="bpmnjs-compare-") as tmp:
        for path in files:
            line, diffs = check(path, args, Path(tmp))
            print(line)
            for d in diffs:
                print(f"  {d}")
            failed = failed or bool(diffs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
