"""Impact analysis: one recursive query, shortest paths, cycles that end."""

from __future__ import annotations

import pytest

from relman.cmdb import impact
from relman.cmdb.models import CIType, ConfigurationItem, Relationship

pytestmark = pytest.mark.django_db

R = Relationship.Kind


@pytest.fixture
def graph():
    """db <- app (runs on) <- web (depends on); app part_of svc; svc depends on itself via
    a cycle svc -> portal -> svc; lb connects to web."""
    types = {
        code: CIType.objects.get_or_create(
            code=code, defaults={"name": code.title(), "is_service": code == "service"}
        )[0]
        for code in ("database", "application", "service", "network")
    }
    ci = {
        name: ConfigurationItem.objects.create(type=types[kind], name=name)
        for name, kind in [
            ("db", "database"),
            ("app", "application"),
            ("web", "application"),
            ("svc", "service"),
            ("portal", "service"),
            ("lb", "network"),
            ("other", "database"),
        ]
    }
    for source, kind, target in [
        ("app", R.RUNS_ON, "db"),
        ("web", R.DEPENDS_ON, "app"),
        ("app", R.PART_OF, "svc"),
        ("portal", R.DEPENDS_ON, "svc"),
        ("svc", R.DEPENDS_ON, "portal"),
        ("lb", R.CONNECTS_TO, "web"),
    ]:
        Relationship.objects.create(source=ci[source], kind=kind, target=ci[target])
    return ci


def test_a_database_affects_everything_above_it_with_its_paths(graph, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = impact.affected([graph["db"].pk])
    names = {graph[n].pk: n for n in graph}
    found = {row.name: [names[pk] for pk in row.path] for row in rows}
    assert found == {
        "app": ["db", "app"],
        "web": ["db", "app", "web"],
        "svc": ["db", "app", "svc"],
        "portal": ["db", "app", "svc", "portal"],
        "lb": ["db", "app", "web", "lb"],
    }
    svc = next(row for row in rows if row.name == "svc")
    assert svc.is_service and svc.depth == 2
    assert [(h.kind, h.reverse) for h in svc.hops] == [("runs_on", False), ("part_of", True)]


def test_depth_limits_the_walk_and_the_roots_are_left_out(graph):
    rows = impact.affected([graph["db"].pk, graph["app"].pk], depth=1)
    assert sorted(row.name for row in rows) == ["svc", "web"]


def test_a_cycle_ends(graph):
    rows = impact.affected([graph["portal"].pk], depth=10)
    assert [row.name for row in rows] == ["svc"]  # svc -> portal is the way back: skipped


def test_closure_and_an_unrelated_item(graph):
    assert impact.affected([graph["other"].pk]) == []
    assert impact.closure([graph["other"].pk]) == {graph["other"].pk}
    assert impact.affected([]) == []


def test_the_walk_grows_with_items_not_with_paths(django_assert_num_queries):
    """Five layers of six items, each depending on every item of the layer below: 6^5
    paths lead from the root to the top layer, but the walk keeps one row per item and hop
    count, and each item gets the path through the smallest ids."""
    from django.db import connection

    kind = CIType.objects.get_or_create(code="application", defaults={"name": "Application"})[0]
    root = ConfigurationItem.objects.create(type=kind, name="root")
    below = [root]
    layers = []
    for level in range(1, 6):
        layer = [
            ConfigurationItem.objects.create(type=kind, name=f"l{level}-{n}") for n in range(6)
        ]
        Relationship.objects.bulk_create(
            Relationship(source=upper, kind=R.DEPENDS_ON, target=lower)
            for upper in layer
            for lower in below
        )
        layers.append(layer)
        below = layer
    sql, params = impact.bare_sql([root.pk], 5)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        walked = cursor.fetchall()
    assert len(walked) == 30  # one per item: each is reached at one hop count only
    with django_assert_num_queries(1):
        rows = impact.affected([root.pk], depth=5)
    assert len(rows) == 30
    top = next(row for row in rows if row.name == "l5-3")
    assert top.depth == 5
    assert top.path == (root.pk, *(layer[0].pk for layer in layers[:4]), top.id)
    assert {hop.kind for hop in top.hops} == {"depends_on"}
