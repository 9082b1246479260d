"""How long an impact question takes on a large CMDB, next to the bare recursive walk.

Builds, in a fresh PostgreSQL database, a layered CMDB of N configuration items and 5·N
relationships (bulk-copied with COPY), in tiers: services > applications > servers and
databases > network devices, with a realistic, skewed fan-in (a few shared databases and
core applications are used by many, most by a few):

    service  depends_on service          app   part_of     service
    app      depends_on app, database    app   connects_to app
    app      runs_on    server           db    runs_on     server
    server   connects_to network device

Then, from a database (the most used one, and one of median use), it times a depth-5
`impact.affected()` (paths, item facts, one recursive query) and the bare recursive CTE
(`impact.bare_sql`, the walk alone) on the same database in the same run, alternating,
and prints the median of several runs of each, their ratio (goal: within 2x) and how the
times grow from 10,000 to 100,000 items.

    .venv/bin/python bench/cmdb_impact.py [--sizes 10000,100000] [--runs 7] [--depth 5]

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import fresh_postgres  # bench/common.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Share of each tier in the items.
TIERS = {
    "service": 0.05,
    "application": 0.30,
    "database": 0.15,
    "server": 0.42,
    "network_device": 0.08,
}
EDGES_PER_ITEM = 5


def skewed(rng: random.Random, ids: list[int], power: float = 3.0) -> int:
    """An id of the list, the first ones much more often (a power-law-like fan-in)."""
    return ids[int(len(ids) * rng.random() ** power)]


def generate(size: int, seed: int = 7) -> tuple[dict[str, list[int]], list[tuple[int, int, str]]]:
    """Item ids per tier (1..size) and the relationships (source, target, kind)."""
    rng = random.Random(seed)
    tiers: dict[str, list[int]] = {}
    next_id = 1
    for code, share in TIERS.items():
        count = max(1, int(size * share))
        tiers[code] = list(range(next_id, next_id + count))
        next_id += count
    edges: set[tuple[int, int, str]] = set()

    def add(source: int, target: int, kind: str) -> None:
        if source != target:
            edges.add((source, target, kind))

    svc, app, db, srv, net = (tiers[c] for c in TIERS)
    for s in svc:
        for _ in range(2):
            add(s, skewed(rng, svc), "depends_on")
    for a in app:
        add(a, rng.choice(svc), "part_of")
        for _ in range(2):
            add(a, rng.choice(srv), "runs_on")
        for _ in range(3):
            add(a, skewed(rng, db), "depends_on")
        for _ in range(3):
            add(a, skewed(rng, app), "depends_on")
        if rng.random() < 0.5:
            add(a, rng.choice(app), "connects_to")
    for d in db:
        for _ in range(2):
            add(d, rng.choice(srv), "runs_on")
    for s in srv:
        for _ in range(2):
            add(s, skewed(rng, net, 2.0), "connects_to")
    wanted = size * EDGES_PER_ITEM
    while len(edges) < wanted:  # the rest: more applications using shared ones
        add(rng.choice(app), skewed(rng, app), "depends_on")
    return tiers, sorted(edges)[:wanted] if len(edges) > wanted else sorted(edges)


def load(size: int) -> dict[str, list[int]]:
    """Empty the CMDB tables and copy a generated CMDB of `size` items into them."""
    from django.db import connection

    from relman.cmdb.models import CIType

    tiers, edges = generate(size)
    types = dict(CIType.objects.values_list("code", "id"))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cmdb_relationship, cmdb_configurationitem CASCADE")
        raw = cursor.connection
        items = io.StringIO()
        for code, ids in tiers.items():
            for pk in ids:
                items.write(f"{pk}\t{types[code]}\t{code}-{pk:07d}\t\tactive\t{{}}\tnow\tnow\n")
        items.seek(0)
        with raw.cursor().copy(
            "COPY cmdb_configurationitem (id, type_id, name, description, status, attributes,"
            " created, updated) FROM STDIN"
        ) as copy:
            copy.write(items.getvalue())
        rels = io.StringIO()
        for source, target, kind in edges:
            rels.write(f"{source}\t{target}\t{kind}\tnow\n")
        with raw.cursor().copy(
            "COPY cmdb_relationship (source_id, target_id, kind, created) FROM STDIN"
        ) as copy:
            copy.write(rels.getvalue())
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('cmdb_configurationitem', 'id'), %s)", [size]
        )
        cursor.execute("ANALYZE cmdb_configurationitem")
        cursor.execute("ANALYZE cmdb_relationship")
    return tiers


def databases_by_use(tiers: dict[str, list[int]]) -> list[tuple[int, int]]:
    """(database id, number of items relating to it) from the most used to the least."""
    from django.db.models import Count

    from relman.cmdb.models import Relationship

    counts = dict(
        Relationship.objects.filter(target_id__in=tiers["database"])
        .values_list("target_id")
        .annotate(n=Count("id"))
        .values_list("target_id", "n")
    )
    return sorted(((pk, counts.get(pk, 0)) for pk in tiers["database"]), key=lambda r: -r[1])


def timed(run, runs: int) -> tuple[list[float], list[float], int, int]:
    """Alternate the two queries `runs` times (after one warm-up of each)."""
    full, bare = [], []
    found = walked = 0
    run("full"), run("bare")
    for _ in range(runs):
        for name, times in (("full", full), ("bare", bare)):
            started = time.perf_counter()
            count = run(name)
            times.append(time.perf_counter() - started)
            if name == "full":
                found = count
            else:
                walked = count
    return full, bare, found, walked


def measure(root: int, depth: int, runs: int) -> tuple[float, float, int, int]:
    from django.db import connection

    from relman.cmdb import impact

    def run(name: str) -> int:
        if name == "full":
            return len(impact.affected([root], depth=depth))
        sql, params = impact.bare_sql([root], depth)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    full, bare, found, walked = timed(run, runs)
    return statistics.median(full), statistics.median(bare), found, walked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="item counts, comma-separated")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/relman_bench_cmdb"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    os.environ["RELMAN_DATA_DIR"] = tempfile.mkdtemp(prefix="relman-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "relman.settings"
    os.environ["DATABASE_URL"] = args.database_url
    fresh_postgres(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(
        f"impact of a database at depth {args.depth}, PostgreSQL, median of {args.runs} runs "
        "each, alternating"
    )
    results: dict[tuple[int, str], tuple[float, float]] = {}
    for size in sizes:
        started = time.perf_counter()
        tiers = load(size)
        print(
            f"\n{size:,} items, {size * EDGES_PER_ITEM:,} relationships: loaded in "
            f"{time.perf_counter() - started:.1f}s"
        )
        ranked = databases_by_use(tiers)
        for label, (root, used) in (
            ("most used database", ranked[0]),
            ("median database", ranked[len(ranked) // 2]),
        ):
            full, bare, found, walked = measure(root, args.depth, args.runs)
            results[(size, label)] = (full, bare)
            print(
                f"  {label:19s} (used by {used:4d}): affected() {full * 1000:9.1f} ms   "
                f"bare CTE {bare * 1000:9.1f} ms   ratio {full / bare:5.2f}x   "
                f"{found:,} affected, {walked:,} walk rows"
            )
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        print(f"\ngrowth from {small:,} to {large:,} items ({large / small:.0f}x the items):")
        for label in ("most used database", "median database"):
            f0, b0 = results[(small, label)]
            f1, b1 = results[(large, label)]
            print(f"  {label:19s}: affected() {f1 / f0:6.1f}x   bare CTE {b1 / b0:6.1f}x")


if __name__ == "__main__":
    main()
