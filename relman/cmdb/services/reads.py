"""Reads of the CMDB for every signed-in user: the item list, an item with its relationships
both ways and its deployed versions, version history, and impact. Each answers in a fixed
number of queries, whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from relman.cmdb import impact as impact_analysis
from relman.cmdb.models import ConfigurationItem, DeployedVersion, Relationship
from relman.cmdb.services.items import get_item


def items() -> QuerySet:
    """Every item with what its row shows (type, team, environment, application) joined."""
    return ConfigurationItem.objects.select_related(
        "type", "owner_team", "environment", "application"
    )


def versions() -> QuerySet:
    """Deployed version rows with their application, release and predecessor joined."""
    return DeployedVersion.objects.select_related("application", "release", "previous")


def item_detail(key: Any) -> ConfigurationItem:
    """An item with `outgoing` and `incoming` relationships (the other side and its type
    joined) and its `versions` (history, newest first) prefetched: five queries."""
    item = get_item(key)
    related = Relationship.objects.select_related("source__type", "target__type").order_by(
        "kind", "id"
    )
    rows = (
        ConfigurationItem.objects.filter(pk=item.pk)
        .select_related("type", "owner_team", "environment", "application")
        .prefetch_related(
            Prefetch("outgoing", queryset=related),
            Prefetch("incoming", queryset=related),
            Prefetch("versions", queryset=versions().order_by("-installed", "-id")),
        )
    )
    return rows.get()


def version_history(key: Any) -> list[DeployedVersion]:
    """Every version recorded on an item, newest first (two queries)."""
    item = get_item(key)
    return list(versions().filter(ci=item).order_by("-installed", "-id"))


@dataclass(frozen=True)
class ImpactRow:
    """An affected item with the names along its path from the changed item."""

    affected: impact_analysis.Affected
    path_names: tuple[str, ...]


def impact_of(key: Any, depth: int = impact_analysis.DEFAULT_DEPTH) -> tuple[Any, list[ImpactRow]]:
    """The item and what a change to it affects within `depth` hops, nearest first: two
    queries (the item, then one recursive query). Every item on a shortest path is itself
    affected, nearer, so the names along the paths come with the answer."""
    item = get_item(key)
    rows = impact_analysis.affected([item.pk], depth=depth)
    names = {row.id: row.name for row in rows}
    names[item.pk] = item.name
    return item, [ImpactRow(row, tuple(names.get(pk, str(pk)) for pk in row.path)) for row in rows]
