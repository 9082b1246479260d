"""How long a full conflict check takes, and how that time grows with the number of releases.

Part 1, in memory (the pure `relman.calendar.conflicts`, no database): a year (2027) of 200
release windows (weekly, fortnightly and monthly rules over 50 applications and 20
environments, expanded with dateutil), 50 freezes, and 10,000 releases, most booked into
window occurrences, some planned outside any window. Detects every conflict among the first
1,000, 2,000, 5,000 and 10,000 releases and prints the best of three times, the number of
conflicts found and the growth ratio (time at 10k / time at 1k: 10 is linear, 100 quadratic).

Part 2, against a database (a temporary SQLite file): the same calendar loaded as rows
(windows and freezes through the services, releases and schedules bulk-copied), then one
`services.conflicts.find_conflicts` over the year, timed.

    .venv/bin/python bench/calendar_conflicts.py [--releases 10000] [--no-db]

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from relman.calendar import conflicts, recurrence  # noqa: E402  (pure modules, no Django)

ZONE = ZoneInfo("Asia/Shanghai")
YEAR_START = datetime(2027, 1, 1, tzinfo=ZONE)
YEAR_END = datetime(2028, 1, 1, tzinfo=ZONE)
APPS = [f"app{i:02d}" for i in range(50)]
ENVS = [f"env{i:02d}" for i in range(20)]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def make_windows(rng: random.Random, count: int = 200) -> list[dict]:
    """Window definitions: each for one application (and some for one environment)."""
    made = []
    for i in range(count):
        kind = rng.choice(["weekly", "fortnightly", "monthly"])
        day = rng.choice(DAYS)
        rule = {
            "weekly": f"FREQ=WEEKLY;BYDAY={day}",
            "fortnightly": f"FREQ=WEEKLY;INTERVAL=2;BYDAY={day}",
            "monthly": f"FREQ=MONTHLY;BYDAY=2{day},4{day}",
        }[kind]
        made.append(
            {
                "id": i + 1,
                "name": f"Window {i + 1}",
                "rrule": rule,
                "start_hour": rng.choice([6, 12, 18, 19, 20, 21, 22]),
                "minutes": rng.choice([120, 180, 240]),
                "application": APPS[i % len(APPS)],
                "environment": rng.choice([None, None, rng.choice(ENVS)]),
                "capacity": rng.choice([None, 2, 3, 4]),
            }
        )
    return made


def expand(windows: list[dict]) -> list[conflicts.WindowOpening]:
    """Every occurrence of the windows in 2027 (and a month after, for suggestions)."""
    openings = []
    for w in windows:
        rule = recurrence.WindowRule(
            id=w["id"],
            rrule=w["rrule"],
            first_date=date(2027, 1, 1),
            start_time=datetime.min.time().replace(hour=w["start_hour"]),
            duration=timedelta(minutes=w["minutes"]),
        )
        for o in recurrence.occurrences(rule, YEAR_START, YEAR_END + timedelta(days=31)):
            openings.append(
                conflicts.WindowOpening(
                    window_id=w["id"],
                    name=w["name"],
                    start=o.start,
                    end=o.end,
                    application=w["application"],
                    environment=w["environment"],
                    capacity=w["capacity"],
                )
            )
    return openings


def make_freezes(rng: random.Random, count: int = 50) -> list[conflicts.FreezeSpan]:
    made = []
    for i in range(count):
        start = YEAR_START + timedelta(days=rng.randrange(0, 360), hours=rng.randrange(24))
        scope = rng.choice(["all", "app", "app", "env", "env"])
        made.append(
            conflicts.FreezeSpan(
                id=i + 1,
                name=f"Freeze {i + 1}",
                reason="bench",
                start=start,
                end=start + timedelta(hours=rng.choice([6, 12, 24, 48])),
                application=rng.choice(APPS) if scope == "app" else None,
                environment=rng.choice(ENVS) if scope == "env" else None,
            )
        )
    return made


def make_releases(
    rng: random.Random, openings: list[conflicts.WindowOpening], count: int
) -> list[conflicts.ScheduledRelease]:
    """Releases in random order: 95% booked into an occurrence of one of their application's
    windows, the rest at a random time (some of those approved emergencies)."""
    by_app: dict[str, list[conflicts.WindowOpening]] = {}
    for o in openings:
        if o.start < YEAR_END:
            by_app.setdefault(o.application, []).append(o)
    made = []
    for i in range(count):
        app = rng.choice(APPS)
        env = rng.choice(ENVS)
        if rng.random() < 0.95 and by_app.get(app):
            opening = rng.choice(by_app[app])
            env = opening.environment or env
            start = opening.start + timedelta(minutes=rng.choice([0, 0, 30, 60]))
            end = min(start + timedelta(minutes=rng.choice([30, 60, 90])), opening.end)
            made.append(
                conflicts.ScheduledRelease(
                    id=i + 1,
                    number=f"REL-2027-{i + 1:05d}",
                    start=start,
                    end=end,
                    application=app,
                    environment=env,
                    window_id=opening.window_id,
                    occurrence_start=opening.start,
                )
            )
        else:
            start = YEAR_START + timedelta(days=rng.randrange(365), hours=rng.randrange(24))
            made.append(
                conflicts.ScheduledRelease(
                    id=i + 1,
                    number=f"REL-2027-{i + 1:05d}",
                    start=start,
                    end=start + timedelta(hours=1),
                    application=app,
                    environment=env,
                    outside_window_approved=rng.random() < 0.3,
                )
            )
    return made


def best_of(runs: int, work) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - began)
    return best, result


def in_memory(total: int) -> tuple[list[dict], list, list]:
    rng = random.Random(2027)
    windows = make_windows(rng)
    began = time.perf_counter()
    openings = expand(windows)
    expanded = time.perf_counter() - began
    freezes = make_freezes(rng)
    releases = make_releases(rng, openings, total)
    print("Part 1: in memory (relman.calendar.conflicts, no database)")
    print(
        f"  {len(windows)} windows -> {len(openings)} occurrences (expanded in "
        f"{expanded * 1000:.0f} ms), {len(freezes)} freezes, {len(releases)} releases in 2027"
    )
    print(f"  {'releases':>9}  {'time':>9}  {'per release':>12}  {'conflicts':>9}  by kind")
    times = {}
    sizes = [n for n in (1000, 2000, 5000, 10000) if n <= total] or [total]
    for n in sizes:
        subset = releases[:n]
        seconds, found = best_of(3, lambda s=subset: conflicts.detect(s, openings, freezes))
        times[n] = seconds
        kinds: dict[str, int] = {}
        for c in found:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
        print(
            f"  {n:>9}  {seconds * 1000:>7.1f}ms  {seconds / n * 1e6:>10.1f}us  {len(found):>9}  "
            + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        )
    first, last = sizes[0], sizes[-1]
    if last > first:
        print(
            f"  growth {first} -> {last} releases: x{times[last] / times[first]:.1f} in time "
            f"for x{last / first:.0f} releases (x{last / first:.0f} would be linear, "
            f"x{(last / first) ** 2:.0f} quadratic)"
        )
    return windows, freezes, releases


def in_database(windows: list[dict], freezes: list, releases: list) -> None:
    """Load the same calendar into a temporary SQLite database and time find_conflicts."""
    data = tempfile.mkdtemp(prefix="relman-bench-")
    os.environ["RELMAN_DATA_DIR"] = data
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relman.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from relman.accounts import services as accounts
    from relman.calendar.models import ReleaseSchedule
    from relman.calendar.services import conflicts as conflict_services
    from relman.calendar.services import freezes as freeze_services
    from relman.calendar.services import windows as window_services
    from relman.cmdb.models import Application, Environment
    from relman.processes.services import load_processes
    from relman.releases import services as release_services
    from relman.releases.models import Release

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_processes()
    apps = {
        code: Application.objects.create(code=code, name=code.upper(), process_name="tfdl")
        for code in APPS
    }
    envs = {code: Environment.objects.create(code=code, name=code) for code in ENVS}
    manager, _pw = accounts.create_user(None, username="bench", password="bench-Pass-1234")
    accounts.assign_role(None, manager, "release_manager")
    window_ids = {}
    for w in windows:
        made = window_services.create_window(
            manager,
            name=w["name"],
            rrule=w["rrule"],
            first_date="2027-01-01",
            start_time=f"{w['start_hour']:02d}:00",
            duration_minutes=w["minutes"],
            application=apps[w["application"]],
            environment=envs[w["environment"]] if w["environment"] else None,
            capacity=w["capacity"],
        )
        window_ids[w["id"]] = made.pk
    for f in freezes:
        freeze_services.create_freeze(
            manager,
            name=f.name,
            reason=f.reason,
            starts=f.start,
            ends=f.end,
            application=apps[f.application] if f.application else None,
            environment=envs[f.environment] if f.environment else None,
        )
    template = release_services.create_release(
        manager, application=apps[APPS[0]], title="Template", kind="upgrade"
    )
    rows = [
        Release(
            number=r.number,
            title=f"Release {r.id}",
            application_id=apps[r.application].pk,
            environment_id=envs[r.environment].pk if r.environment else None,
            kind="upgrade",
            method="emergency" if r.outside_window_approved else "planned",
            requester_id=manager.pk,
            process_id=template.process_id,
            variant=template.variant,
            stage=template.stage,
            planned_start=r.start,
            planned_end=r.end,
        )
        for r in releases
    ]
    Release.objects.bulk_create(rows, batch_size=2000)
    ids = dict(
        Release.objects.filter(number__in=[r.number for r in releases]).values_list("number", "pk")
    )
    ReleaseSchedule.objects.bulk_create(
        [
            ReleaseSchedule(
                release_id=ids[r.number],
                window_id=window_ids[r.window_id] if r.window_id else None,
                occurrence_start=r.occurrence_start,
                outside_window_reason="bench emergency" if r.outside_window_approved else "",
                scheduled_by=manager,
            )
            for r in releases
            if r.window_id or r.outside_window_approved
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    loaded = time.perf_counter() - began
    print()
    print(f"Part 2: against a database ({connection.vendor}, a temporary file)")
    print(
        f"  loaded {len(releases)} releases, {len(windows)} windows, {len(freezes)} freezes in {loaded:.1f} s"
    )
    from django.db import reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        found = conflict_services.find_conflicts(YEAR_START, YEAR_END)
        seconds = time.perf_counter() - began
    print(
        f"  find_conflicts over 2027: {seconds:.2f} s, {len(found)} conflicts, "
        f"{len(queries.captured_queries)} SQL queries"
    )
    if found:
        print(f"  e.g. {found[0].message} {found[0].resolution}")
    connection.close()
    shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=10000)
    parser.add_argument("--no-db", action="store_true", help="Skip part 2 (the database).")
    args = parser.parse_args()
    windows, freezes, releases = in_memory(args.releases)
    if not args.no_db:
        in_database(windows, freezes, releases)


if __name__ == "__main__":
    main()
