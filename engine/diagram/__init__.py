"""BPMN diagrams drawn by hall itself: the diagram interchange (DI) of a BPMN file read into shapes and
edges (`model`), rendered as SVG with an overlay of a case's state or of test coverage (`svg`,
`coverage`). No browser and no SpiffWorkflow: lxml reads the XML."""

from .model import Diagram, Edge, Shape, read_diagram
from .svg import Overlay, render

__all__ = ["Diagram", "Edge", "Overlay", "Shape", "read_diagram", "render"]
