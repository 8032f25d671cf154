"""Coverage of scenario runs drawn on the diagrams (`hall test --coverage DIR`): per process, the flow
nodes and sequence flows the scenarios reached, an SVG with covered elements green and uncovered ones
red and dashed, the percentages, and the gateway branches no scenario took, by id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import OutputNotWritable
from ..scenarios import Coverage
from .model import GATEWAYS, Diagram, read_diagram
from .svg import Overlay, render


@dataclass
class ProcessCoverage:
    """One process's coverage: which flow nodes and sequence flows were reached, and which not."""

    process: str
    nodes: dict[str, bool]
    flows: dict[str, bool]
    branches: list[str] = field(default_factory=list)  # uncovered outgoing flows of splitting gateways

    @property
    def percent(self) -> float:
        """Covered flow nodes and sequence flows together, of all of them."""
        total = len(self.nodes) + len(self.flows)
        done = sum(self.nodes.values()) + sum(self.flows.values())
        return 100.0 * done / total if total else 100.0

    def summary(self) -> str:
        """`complaint: 45/68 flow nodes, 50/74 sequence flows, 64.1%`."""
        return (
            f"{self.process}: {sum(self.nodes.values())}/{len(self.nodes)} flow nodes, "
            f"{sum(self.flows.values())}/{len(self.flows)} sequence flows, {self.percent:.1f}%"
        )


def measure(
    diagram: Diagram, process: str, reached: Iterable[str], transitions: Iterable[tuple[str, str]]
) -> ProcessCoverage:
    """Coverage of one process of a diagram from the elements reached and the (from, to) moves taken.
    A flow into a parallel or inclusive join counts when both its ends were reached (the engine
    records one incoming branch as the join's predecessor)."""
    reached = set(reached)
    moves = set(transitions)
    kinds = diagram.nodes.get(process, {})
    flows = diagram.flows.get(process, {})
    nodes = {n: n in reached for n in kinds}
    covered: dict[str, bool] = {}
    for fid, (source, target) in flows.items():
        joins = kinds.get(target) in ("parallelGateway", "inclusiveGateway")
        covered[fid] = (source, target) in moves or (joins and source in reached and target in reached)
    outgoing: dict[str, list[str]] = {}
    for fid, (source, _target) in flows.items():
        outgoing.setdefault(source, []).append(fid)
    branches = sorted(
        fid
        for gw, out in outgoing.items()
        if kinds.get(gw) in GATEWAYS and len(out) > 1
        for fid in out
        if not covered[fid]
    )
    return ProcessCoverage(process, nodes, covered, branches)


def overlay(cov: ProcessCoverage) -> Overlay:
    """Covered elements and flows green, uncovered ones red and dashed, the percentage as the title."""
    return Overlay(
        states={n: "covered" if ok else "uncovered" for n, ok in cov.nodes.items()},
        edge_states={f: "covered" if ok else "uncovered" for f, ok in cov.flows.items()},
        title=f"coverage {cov.summary()}",
    )


def write_coverage(coverage: Coverage, out_dir: Path) -> list[str]:
    """Write `<process>.svg` per process the scenarios deployed; the lines to print: the summary per
    process and its uncovered gateway branches."""
    nodes, transitions, sources = coverage.nodes, coverage.transitions, coverage.sources
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputNotWritable(str(out_dir), exc.strerror or str(exc)) from None
    lines = []
    diagrams: dict[Path, Diagram] = {}
    for process in sorted(sources):
        path = sources[process]
        if path not in diagrams:
            diagrams[path] = read_diagram(path)
        cov = measure(diagrams[path], process, nodes.get(process, set()), transitions.get(process, set()))
        target = out_dir / f"{process}.svg"
        try:
            target.write_text(render(diagrams[path], overlay(cov)), encoding="utf-8")
        except OSError as exc:
            raise OutputNotWritable(str(target), exc.strerror or str(exc)) from None
        lines.append(f"coverage {cov.summary()}  [{target}]")
        if cov.branches and any(cov.nodes.values()):  # a process no scenario reached: its summary says it
            lines.append(f"  uncovered gateway branches: {', '.join(cov.branches)}")
    return lines
