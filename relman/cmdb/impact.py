"""Impact analysis: which configuration items a change to some items affects, and why.

A change spreads along relationships (`Relationship`): to the items that depend on or run on
a changed item, to the whole a changed part belongs to, and both ways along a connection.
One question is one recursive query (a `WITH RECURSIVE` that SQLite and PostgreSQL both
run), never a query per item: it walks up to `depth` hops, skips items already on the path
(so cycles end), and keeps for each affected item its shortest path (ties broken by the
path's ids, so the answer is stable).
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
WITH RECURSIVE walk(ci, depth, path, kinds) AS (
    SELECT id, 0, ',' || CAST(id AS TEXT) || ',', CAST('' AS TEXT)
    FROM cmdb_configurationitem WHERE id IN ({roots})
  UNION ALL
    SELECT CASE WHEN r.target_id = w.ci THEN r.source_id ELSE r.target_id END,
           w.depth + 1,
           w.path || CAST(CASE WHEN r.target_id = w.ci THEN r.source_id ELSE r.target_id END
                          AS TEXT) || ',',
           w.kinds || CASE WHEN r.target_id = w.ci THEN r.kind ELSE '^' || r.kind END || ','
    FROM walk w
    JOIN cmdb_relationship r
      ON (r.target_id = w.ci AND r.kind IN ('depends_on', 'runs_on', 'connects_to'))
      OR (r.source_id = w.ci AND r.kind IN ('part_of', 'connects_to'))
    WHERE w.depth < %s
      AND w.path NOT LIKE '%%,' || CAST(
            CASE WHEN r.target_id = w.ci THEN r.source_id ELSE r.target_id END AS TEXT
          ) || ',%%'
)
"""

# The walk's shortest path to each item it reached (not the roots), with the item's facts.
# Only "%s" placeholders are ever put into {roots}; the values go as parameters.
BEST = """
SELECT ci.id, ci.name, t.code, t.name, t.is_service, ci.owner_team_id, team.name,
       ci.environment_id, best.depth, best.path, best.kinds
FROM (
    SELECT ci, depth, path, kinds,
           ROW_NUMBER() OVER (PARTITION BY ci ORDER BY depth, path) AS n
    FROM walk WHERE depth > 0 AND ci NOT IN ({roots})
) best
JOIN cmdb_configurationitem ci ON ci.id = best.ci
JOIN cmdb_citype t ON t.id = ci.type_id
LEFT JOIN accounts_team team ON team.id = ci.owner_team_id
WHERE best.n = 1
ORDER BY best.depth, ci.name, ci.id
"""
QUERY = "".join((WALK, BEST))


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
        cursor.execute(sql, [*roots, depth, *roots])
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
    """The walk alone, as the benchmark's floor: the same recursive CTE, no joins."""
    placeholders = ", ".join(["%s"] * len(roots))
    sql = WALK.replace("{roots}", placeholders) + "SELECT ci, depth FROM walk WHERE depth > 0"  # noqa: S608
    return sql, [*roots, depth]
