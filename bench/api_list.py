"""Throughput of the filtered release list from the API, served by `relman serve` with 2 workers.

Loads N releases into a fresh PostgreSQL database (or SQLite with --sqlite), runs ANALYZE,
starts the real server, and drives it with wrk (Debian package `wrk`) on loopback. Prints
requests per second for a 50-row filtered first page and for a deep keyset page, and the
number of SQL queries one request makes. The bar: 10x NetBox's device list on this machine
(about 11 req/s with 2 workers), so at least 110 req/s.

    .venv/bin/python bench/api_list.py [--releases 20000] [--duration 15] [--sqlite]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import free_port, fresh_postgres  # bench/common.py

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def load(count: int) -> tuple[str, str]:
    """Migrate, load presets and N releases; return (token, a deep-page cursor)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from relman.accounts import services as accounts
    from relman.cmdb.models import Application
    from relman.processes.services import current_version, definition, load_processes
    from relman.releases import services as releases
    from relman.releases.filters import encode_cursor
    from relman.releases.models import Release

    call_command("migrate", verbosity=0)
    load_processes()
    apps = [
        Application.objects.create(code=f"app{i}", name=f"Application {i}", process_name=p)
        for i, p in enumerate(["mof", "hhlc", "feh", "tfdl"] * 5)
    ]
    manager, _pw = accounts.create_user(None, username="bench-manager", password="bench-Pass-1234")
    reader, _pw = accounts.create_user(None, username="bench-reader", password="bench-Pass-1234")
    accounts.assign_role(None, manager, "release_manager")
    for app in apps[:10]:
        accounts.assign_role(None, reader, "tester", app.code)
    _token, secret = accounts.create_token(None, reader, name="bench")

    # The first releases go through the services; the bulk of the table is copied from them
    # with bulk_create, since this measures reads and the services' write path is tested elsewhere.
    templates = [
        releases.create_release(
            manager, application=app, title=f"Seed release {app.code}", kind=kind
        )
        for app in apps
        for kind in ("upgrade", "new_system", "patch")
    ]
    rng = random.Random(7)
    stages = {}
    for t in templates:
        variant = definition(current_version(t.application.process_name)).variant(t.variant)
        stages[t.pk] = [s.key for s in variant.stages]
    batch, number = [], Release.objects.count()
    for _ in range(count - len(templates)):
        t = rng.choice(templates)
        number += 1
        closed = rng.random() < 0.7
        batch.append(
            Release(
                number=f"BENCH-{number:07d}",
                title=f"{rng.choice(['Upgrade', 'Patch', 'Go-live', 'Hotfix'])} {number}",
                application_id=t.application_id,
                kind=t.kind,
                method=rng.choice(["planned", "planned", "emergency"]),
                release_class=rng.choice(["minor", "standard", "major"]),
                requester_id=manager.pk,
                process_id=t.process_id,
                variant=t.variant,
                stage=rng.choice(stages[t.pk]),
                status="closed" if closed else "in_progress",
                outcome=rng.choice(["succeeded", "succeeded", "failed", "rolled_back", "cancelled"])
                if closed
                else "",
            )
        )
        if len(batch) == 5000:
            Release.objects.bulk_create(batch)
            batch = []
    Release.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    visible = Release.objects.filter(
        status="in_progress", application_id__in=[a.pk for a in apps[:10]]
    )
    middle = visible.count() // 2
    deep = visible.order_by("-created", "-id").values_list("created", "id")[middle]
    return secret, encode_cursor(deep[0], deep[1])


def query_count(token: str, path: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


def wrk(url: str, token: str, duration: int, connections: int) -> tuple[float, str]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses:\n{out}")
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    return rps, p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=20000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite instead of PostgreSQL")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/relman_bench")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")

    data_dir = tempfile.mkdtemp(prefix="relman-bench-")
    os.environ["RELMAN_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "relman.settings"
    if not args.sqlite:
        fresh_postgres(args.database_url)
        os.environ["DATABASE_URL"] = args.database_url
    started = time.perf_counter()
    token, cursor = load(args.releases)
    print(
        f"loaded {args.releases} releases in {time.perf_counter() - started:.1f}s ({'SQLite' if args.sqlite else 'PostgreSQL'})"
    )

    first = "/api/v1/releases?status=in_progress&kind=upgrade&limit=50"
    deep = f"/api/v1/releases?status=in_progress&limit=50&cursor={cursor}"
    print(
        f"queries per request: first page {query_count(token, first)}, deep page {query_count(token, deep)}"
    )

    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "relman"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-embedded-worker",
        ],
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"the server did not start: {server.stderr.read().decode()[-2000:]}")
        base = f"http://127.0.0.1:{port}"
        wrk(base + first, token, 3, args.connections)  # warm up
        for name, path in (("first page, filtered", first), ("deep keyset page", deep)):
            rps, p99 = wrk(base + path, token, args.duration, args.connections)
            print(
                f"{name:24s} {rps:8.1f} req/s   p99 {p99:>8s}   ({rps / 11:.1f}x NetBox's 11 req/s)"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
