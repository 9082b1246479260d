"""A configuration item's neighbourhood drawn as a graph, laid out on the server as SVG.

The item sits in the middle; above it the items a change to it reaches (they depend on or
run on it, it is part of them, they connect to it), below it the items it relies on. Each
row holds at most `PER_ROW` boxes and says how many more there are; the page lists them all
beside the drawing. Pure: it takes rows, returns positions; the template draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PER_ROW = 8
BOX_W, BOX_H = 150, 44
GAP = 20
ROW_GAP = 90
MARGIN = 16


@dataclass(frozen=True)
class Neighbour:
    """One relationship seen from the item: the other side, and the kind in words."""

    id: int
    name: str
    type_name: str
    label: str  # the relationship in words, e.g. "runs on"
    url: str


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    name: str
    type_name: str
    url: str
    center: bool = False

    @property
    def cx(self) -> int:
        return self.x + BOX_W // 2

    @property
    def short(self) -> str:
        """The name as it fits a box; the full name is its tooltip."""
        return self.name if len(self.name) <= 20 else self.name[:19] + "…"


@dataclass(frozen=True)
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int
    label: str

    @property
    def mx(self) -> int:
        return (self.x1 + self.x2) // 2

    @property
    def my(self) -> int:
        return (self.y1 + self.y2) // 2


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    more_above: int
    more_below: int


def _row(items: Sequence[Neighbour], y: int, width: int) -> list[Box]:
    shown = list(items[:PER_ROW])
    span = len(shown) * BOX_W + max(0, len(shown) - 1) * GAP
    left = (width - span) // 2
    return [
        Box(left + i * (BOX_W + GAP), y, n.name, n.type_name, n.url) for i, n in enumerate(shown)
    ]


def layout(
    name: str, type_name: str, above: Sequence[Neighbour], below: Sequence[Neighbour]
) -> Layout:
    """Positions for the item (`name`) with `above` and `below` it."""
    widest = max(1, min(PER_ROW, max(len(above), len(below), 1)))
    width = max(widest * BOX_W + (widest - 1) * GAP, BOX_W) + 2 * MARGIN
    top = MARGIN + (BOX_H + ROW_GAP if above else 0)
    center = Box((width - BOX_W) // 2, top, name, type_name, "", center=True)
    upper = _row(above, MARGIN, width)
    lower = _row(below, top + BOX_H + ROW_GAP, width)
    edges = [
        Edge(b.cx, b.y + BOX_H, center.cx, center.y, n.label)
        for b, n in zip(upper, above, strict=False)
    ] + [
        Edge(center.cx, center.y + BOX_H, b.cx, b.y, n.label)
        for b, n in zip(lower, below, strict=False)
    ]
    height = (lower[0].y if lower else center.y) + BOX_H + MARGIN
    return Layout(
        width=width,
        height=height,
        boxes=(*upper, center, *lower),
        edges=tuple(edges),
        more_above=max(0, len(above) - PER_ROW),
        more_below=max(0, len(below) - PER_ROW),
    )
