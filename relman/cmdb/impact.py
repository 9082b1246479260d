"""Impact analysis: which configuration items a change to some items affects, and why.

A change spreads along relationships (`Relationship`): to the items that depend on or run on
a changed item, to the whole a changed part belongs to, and both ways along a connection.
One question is one query (`WITH RECURSIVE`, which SQLite and PostgreSQL both run), never a
query per item. It has three parts:

1. `walk`: the items reached within `depth` hops, as (item, hops) pairs. The recursion uses
   UNION, not UNION ALL: a pair already found is not walked again, so the work is bounded by
   items x depth, not by the number of paths (in a CMDB of 100,000 items where a shared
   database is used by hundreds of applications, the paths to depth 5 number in the
   millions). Cycles end at `depth`.
2. `best` and `pick`: each reached item's fewest hops, and for each item its step back: the
   item one hop nearer that affects it (the smallest id when there are several, then the
   smallest kind), so the answer is stable.
3. `chain`: the steps form a tree rooted at the changed items; walking it down from them
   gives each item its shortest path, with the kind of every hop, once per item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

DEFAULT_DEPTH = 5
MAX_DEPTH = 10

# A hop from an item `w.ci` to one it affects, in one join: either the relationship points
# at it (its source depends on / runs on it, or connects to it), or it is the part (the
# whole it belongs to is affected) or connects to the other side.
WALK = """
WITH RECURSIVE walk(ci, depth) AS (
    SELECT id, 0 FROM cmdb_configurationitem WHERE id IN ({roots})
  UNION
    SELECT CASE WHEN r.target_id = w.ci THEN r.source_id ELSE r.target_id END, w.depth + 1
    FROM walk w
    JOIN cmdb_relationship r
      ON (r.target_id = w.ci AND r.kind IN ('depends_on', 'runs_on', 'connects_to'))
      OR (r.source_id = w.ci AND r.kind IN ('part_of', 'connects_to'))
    WHERE w.depth < %s
)
"""

# Each item's fewest hops; its step back (the nearer item that affects it, and the kind of
# that hop, '^' marking a kind read from the nearer item: '^part_of' = the nearer item is
# part of this one), read from the nearer items' relationships once each; the tree of
# steps walked down from the changed items; and the items' facts.
# Only "%s" placeholders are ever put into {roots}; the values go as parameters.
PATHS = """
, best(ci, depth) AS (
    SELECT ci, MIN(depth) FROM walk GROUP BY ci
)
, near(ci, depth, via, kind) AS MATERIALIZED (
    SELECT r.source_id, p.depth + 1, p.ci, r.kind
    FROM best p
    JOIN cmdb_relationship r
      ON r.target_id = p.ci AND r.kind IN ('depends_on', 'runs_on', 'connects_to')
    WHERE p.depth < %s
  UNION ALL
    SELECT r.target_id, p.depth + 1, p.ci, '^' || r.kind
    FROM best p
    JOIN cmdb_relationship r ON r.source_id = p.ci AND r.kind IN ('part_of', 'connects_to')
    WHERE p.depth < %s
)
, hop(ci, via, kind) AS (
    SELECT n.ci, n.via, n.kind
    FROM near n
    JOIN best b ON b.ci = n.ci AND b.depth = n.depth
)
, pick(ci, via, kind) AS (
    SELECT ci, via, kind
    FROM (
        SELECT ci, via, kind, ROW_NUMBER() OVER (PARTITION BY ci ORDER BY via, kind) AS n
        FROM hop
    ) ranked
    WHERE n = 1
)
, chain(ci, depth, path, kinds) AS (
    SELECT ci, 0, ',' || CAST(ci AS TEXT) || ',', ','
    FROM best WHERE depth = 0
  UNION ALL
    SELECT h.ci, c.depth + 1, c.path || CAST(h.ci AS TEXT) || ',', c.kinds || h.kind || ','
    FROM chain c
    JOIN pick h ON h.via = c.ci
)
SELECT ci.id, ci.name, t.code, t.name, t.is_service, ci.owner_team_id, team.name,
       ci.environment_id, c.depth, c.path, c.kinds
FROM chain c
JOIN cmdb_configurationitem ci ON ci.id = c.ci
JOIN cmdb_citype t ON t.id = ci.type_id
LEFT JOIN accounts_team team ON team.id = ci.owner_team_id
WHERE c.depth > 0
ORDER BY c.depth, ci.name, ci.id
"""
QUERY = "".join((WALK, PATHS))


@dataclass(frozen=True)
class Hop:
    """One step of a path: `via` relationship kind, read from the affected side
    (`runs_on`: the next item runs on the previous one; `^part_of`: the previous item is
    part of the next)."""

    ci: int
    kind: str
    reverse: bool


@dataclass(frozen=True)
class Affected:
    """An item a change reaches, how far away, and the path that explains it."""

    id: int
    name: str
    type_code: str
    type_name: str
    is_service: bool
    owner_team_id: int | None
    owner_team: str
    environment_id: int | None
    depth: int
    path: tuple[int, ...]  # from the changed item to this one, both included
    hops: tuple[Hop, ...] = field(default=())


def _ids(ci_ids: Iterable[int]) -> list[int]:
    return sorted({int(pk) for pk in ci_ids})


def affected(ci_ids: Iterable[int], *, depth: int = DEFAULT_DEPTH) -> list[Affected]:
    """Every item a change to `ci_ids` affects within `depth` hops, nearest first.

    One query, whatever the size of the graph; the changed items themselves are left out."""
    roots = _ids(ci_ids)
    if not roots:
        return []
    depth = max(1, min(int(depth), MAX_DEPTH))
    placeholders = ", ".join(["%s"] * len(roots))
    sql = QUERY.replace("{roots}", placeholders)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*roots, depth, depth, depth])
        rows = cursor.fetchall()
    out = []
    for pk, name, type_code, type_name, service, team_id, team, env, hops, path, kinds in rows:
        ids = tuple(int(part) for part in path.strip(",").split(","))
        steps = tuple(
            Hop(ci=ci, kind=kind.lstrip("^"), reverse=kind.startswith("^"))
            for ci, kind in zip(ids[1:], kinds.strip(",").split(","), strict=True)
        )
        out.append(
            Affected(
                id=pk,
                name=name,
                type_code=type_code,
                type_name=type_name,
                is_service=bool(service),
                owner_team_id=team_id,
                owner_team=team or "",
                environment_id=env,
                depth=hops,
                path=ids,
                hops=steps,
            )
        )
    return out


def closure(ci_ids: Iterable[int], *, depth: int = DEFAULT_DEPTH) -> set[int]:
    """The changed items and every item they affect: what two releases must not share."""
    roots = set(_ids(ci_ids))
    return roots | {row.id for row in affected(roots, depth=depth)}


def bare_sql(roots: list[int], depth: int) -> tuple[str, list[int]]:
    """The walk alone, as the benchmark's floor: the same recursive CTE, no paths, no joins."""
    placeholders = ", ".join(["%s"] * len(roots))
    sql = WALK.replace("{roots}", placeholders) + "SELECT ci, depth FROM walk WHERE depth > 0"  # noqa: S608
    return sql, [*roots, depth]
