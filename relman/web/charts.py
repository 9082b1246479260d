"""Bar charts laid out on the server, drawn as SVG by the templates (no script, no CDN).

Pure: each function takes numbers and returns positions; the template draws them and adds
the links to the releases behind each bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 560, 200
TOP, BOTTOM, LEFT = 16, 36, 40
GAP = 12


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str
    value: str  # as printed above the bar ("" when there is no value)
    query: str  # the query string of the releases behind it

    @property
    def cx(self) -> int:
        return self.x + self.width // 2


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    baseline: int
    ticks: list[tuple[int, str]]  # (y, label) of the value axis


def bars(
    values: Sequence[float | None],
    labels: Sequence[str],
    queries: Sequence[str],
    *,
    maximum: float | None = None,
    unit: str = "",
) -> Chart:
    """One bar per value, scaled to `maximum` (the largest value when None); a missing
    value (None) draws no bar and prints a dash."""
    count = max(len(values), 1)
    top = maximum if maximum is not None else max([v or 0 for v in values] + [1])
    plot = HEIGHT - TOP - BOTTOM
    width = (WIDTH - LEFT - GAP * (count + 1)) // count
    drawn = []
    for i, (value, label, query) in enumerate(zip(values, labels, queries, strict=True)):
        height = 0 if value is None or not top else round(plot * value / top)
        x = LEFT + GAP + i * (width + GAP)
        shown = "–" if value is None else f"{value:g}{unit}"
        drawn.append(Bar(x, HEIGHT - BOTTOM - height, width, height, label, shown, query))
    ticks = [(HEIGHT - BOTTOM - round(plot * f), f"{top * f:g}{unit}") for f in (0, 0.5, 1)]
    return Chart(WIDTH, HEIGHT, drawn, HEIGHT - BOTTOM, ticks)
