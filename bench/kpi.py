"""How long the quarterly KPI set takes on a large history, next to the same aggregation
written directly in SQL on the same database in the same run.

Builds, in a fresh PostgreSQL database, N releases over five years (bulk-copied with COPY)
for 40 applications, with realistic outcomes (about 85 % succeeded), kinds, methods and
dates. Then, for one quarter, it times `reports.kpi.kpis()` for an administrator (every
figure and DORA key: one aggregate with a count per figure, the durations, and the time to
restore with its subquery) and the direct SQL that computes the same figures (one
`COUNT(*) FILTER` query, the durations, the restore subquery), alternating, and prints the
median of several runs of each and their ratio (goal: within 1.5x of direct SQL).

    .venv/bin/python bench/kpi.py [--releases 1000000] [--runs 7] [--quarter 2026Q3]

Prints figures only; nothing is asserted. The indexes it relies on are those of the
releases table: (status, actual_end) and (application, actual_end).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import fresh_postgres  # bench/common.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APPLICATIONS = 40
START = datetime(2022, 1, 1, tzinfo=UTC)
SPAN_DAYS = 5 * 365
OUTCOMES = [("succeeded", 85), ("failed", 4), ("rolled_back", 5), ("cancelled", 6)]
KINDS = ["new_system", "upgrade", "patch", "documents"]

# The same figures as kpi.kpis(), by hand: closed in [start, end), cancelled left out of
# the success rate's denominator (RELMAN_KPI_COUNT_CANCELLED off).
DIRECT_COUNTS = """
SELECT count(*),
       count(*) FILTER (WHERE outcome = 'succeeded'),
       count(*) FILTER (WHERE outcome = 'failed'),
       count(*) FILTER (WHERE outcome = 'rolled_back'),
       count(*) FILTER (WHERE outcome = 'cancelled'),
       count(*) FILTER (WHERE outcome IN ('succeeded', 'failed', 'rolled_back')),
       count(*) FILTER (WHERE method = 'emergency'),
       count(*) FILTER (WHERE outcome IN ('failed', 'rolled_back')),
       count(*) FILTER (WHERE planned_start IS NOT NULL AND planned_end IS NOT NULL
                          AND actual_start IS NOT NULL),
       count(*) FILTER (WHERE actual_start >= planned_start AND actual_start <= planned_end),
       count(*) FILTER (WHERE kind = 'new_system'),
       count(*) FILTER (WHERE kind = 'upgrade'),
       count(*) FILTER (WHERE kind = 'patch'),
       count(*) FILTER (WHERE kind = 'documents')
FROM releases_release
WHERE status = 'closed' AND actual_end >= %(start)s AND actual_end < %(end)s
"""
DIRECT_DURATIONS = """
SELECT created, actual_end, outcome FROM releases_release
WHERE status = 'closed' AND actual_end >= %(start)s AND actual_end < %(end)s
  AND outcome IN ('succeeded', 'failed', 'rolled_back')
"""
DIRECT_RESTORE = """
SELECT r.actual_end,
       (SELECT n.actual_end FROM releases_release n
        WHERE n.application_id = r.application_id AND n.status = 'closed'
          AND n.outcome = 'succeeded' AND n.actual_end > r.actual_end
        ORDER BY n.actual_end LIMIT 1)
FROM releases_release r
WHERE r.status = 'closed' AND r.actual_end >= %(start)s AND r.actual_end < %(end)s
  AND r.outcome IN ('failed', 'rolled_back')
"""


def rows(count: int, ids: dict[str, int], seed: int = 11) -> io.StringIO:
    """`count` releases as COPY text, closed or (the last weeks) in progress."""
    rng = random.Random(seed)
    weights = [w for _o, w in OUTCOMES]
    out = io.StringIO()
    for n in range(1, count + 1):
        created = START + timedelta(days=SPAN_DAYS * n / count, minutes=rng.randint(0, 1440))
        lead = timedelta(hours=rng.lognormvariate(5.3, 0.6))
        ended = created + lead
        planned = ended - timedelta(hours=rng.uniform(1, 4))
        outcome = rng.choices([o for o, _w in OUTCOMES], weights)[0]
        in_progress = ended > START + timedelta(days=SPAN_DAYS)
        status = "in_progress" if in_progress else "closed"
        app = ids["app"] + n % APPLICATIONS
        out.write(
            "\t".join(
                [
                    str(n),
                    created.isoformat(),
                    created.isoformat(),
                    f"B-{n:08d}",
                    f"Release {n}",
                    "",
                    str(app),
                    rng.choice(KINDS),
                    "emergency" if rng.random() < 0.08 else "planned",
                    "standard",
                    f"1.{n % 97}",
                    str(ids["requester"]),
                    "",
                    "",
                    "medium",
                    "",
                    str(ids["process"]),
                    "standard",
                    "release_plan" if in_progress else "close_and_report",
                    status,
                    "" if in_progress else outcome,
                    planned.isoformat(),
                    (planned + timedelta(hours=5)).isoformat(),
                    "\\N" if in_progress or outcome == "cancelled" else planned.isoformat(),
                    "\\N" if in_progress else ended.isoformat(),
                    "1",
                ]
            )
            + "\n"
        )
    out.seek(0)
    return out


COLUMNS = (
    "id, created, updated, number, title, description, application_id, kind, method, "
    "release_class, version_number, requester_id, scope, impact, risk, backout_plan, "
    "process_id, variant, stage, status, outcome, planned_start, planned_end, actual_start, "
    "actual_end, revision"
)


def load(count: int) -> None:
    from django.db import connection

    from relman.accounts.models import User
    from relman.cmdb.models import Application
    from relman.processes import services as processes

    processes.load_processes()
    version = processes.current_version("tfdl")
    apps = [
        Application.objects.create(code=f"app{i:02d}", name=f"App {i}", process_name="tfdl")
        for i in range(APPLICATIONS)
    ]
    requester = User.objects.create(username="requester")
    ids = {"app": apps[0].pk, "requester": requester.pk, "process": version.pk}
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(
            f"COPY releases_release ({COLUMNS}) FROM STDIN"
        ) as copy:
            copy.write(rows(count, ids).getvalue())
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('releases_release', 'id'), %s)", [count]
        )
        cursor.execute("ANALYZE releases_release")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quarter", default="2026Q3")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/relman_bench_kpi"
    )
    args = parser.parse_args()
    os.environ["RELMAN_DATA_DIR"] = tempfile.mkdtemp(prefix="relman-bench-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "relman.settings"
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["RELMAN_DB_STATEMENT_TIMEOUT_MS"] = "0"  # the bulk load takes longer than 30 s
    fresh_postgres(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    load(args.releases)
    print(f"{args.releases:,} releases loaded in {time.perf_counter() - started:.1f}s")

    from relman.accounts.models import User
    from relman.reports import kpi
    from relman.reports.filters import KpiQuery

    admin = User.objects.create(username="bench-admin", is_superuser=True)
    question = KpiQuery(period=args.quarter)
    period = question.the_period
    bounds = {"start": period.start, "end": period.end}

    def relman_kpis() -> int:
        return kpi.kpis(admin, question).outcomes["succeeded"]

    def direct() -> int:
        with connection.cursor() as cursor:
            cursor.execute(DIRECT_COUNTS, bounds)
            succeeded = cursor.fetchone()[1]
            cursor.execute(DIRECT_DURATIONS, bounds)
            lead = [(e - c).total_seconds() / 3600 for c, e, _o in cursor.fetchall()]
            statistics.median(lead or [0])
            cursor.execute(DIRECT_RESTORE, bounds)
            cursor.fetchall()
        return succeeded

    mine, floor = [], []
    assert relman_kpis() == direct(), "the two computations disagree"
    for _ in range(args.runs):
        for fn, times in ((relman_kpis, mine), (direct, floor)):
            began = time.perf_counter()
            fn()
            times.append(time.perf_counter() - began)
    a, b = statistics.median(mine), statistics.median(floor)
    closed = kpi.kpis(admin, question).outcomes
    print(
        f"quarter {args.quarter}: {sum(closed.values()):,} releases closed; "
        f"median of {args.runs} runs, alternating"
    )
    print(f"  relman kpis()   {a * 1000:8.1f} ms")
    print(f"  direct SQL      {b * 1000:8.1f} ms")
    print(f"  ratio           {a / b:8.2f}x   (goal: within 1.5x)")


if __name__ == "__main__":
    main()
