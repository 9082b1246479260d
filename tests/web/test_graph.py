"""The CI graph's layout: rows above and below the item, capped, edges meeting the boxes."""

from __future__ import annotations

from relman.web.graph import BOX_H, PER_ROW, Neighbour, layout


def _n(i: int) -> Neighbour:
    return Neighbour(i, f"item-{i}", "Server", "runs on", f"/cmdb/{i}/")


def test_the_item_sits_between_what_it_affects_and_what_it_relies_on():
    out = layout("db", "Database", [_n(1), _n(2)], [_n(3)])
    center = next(b for b in out.boxes if b.center)
    above = [b for b in out.boxes if b.y < center.y]
    below = [b for b in out.boxes if b.y > center.y]
    assert [b.name for b in above] == ["item-1", "item-2"]
    assert [b.name for b in below] == ["item-3"]
    assert all(e.y2 == center.y for e in out.edges[:2])
    assert out.edges[2].y1 == center.y + BOX_H
    assert all(b.x >= 0 and b.x + 150 <= out.width for b in out.boxes)
    assert out.height >= below[0].y + BOX_H


def test_rows_are_capped_and_say_how_many_more():
    out = layout("db", "Database", [_n(i) for i in range(PER_ROW + 3)], [])
    assert out.more_above == 3 and out.more_below == 0
    assert len(out.boxes) == PER_ROW + 1


def test_a_lone_item_and_a_long_name():
    out = layout("x" * 40, "Server", [], [])
    assert len(out.boxes) == 1 and out.edges == ()
    assert out.boxes[0].short.endswith("…") and len(out.boxes[0].short) == 20
