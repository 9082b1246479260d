"""Soak test: mixed API traffic from several users against `relman serve` for N minutes.

Not part of the test suite. By default it makes a scratch PostgreSQL database, seeds an
application, users with roles and API tokens and a few releases, and starts the real server
(gunicorn, 2 web workers, each with its embedded Celery worker) on a free port of 127.0.0.1.
With --url it drives a server you started instead (only on 127.0.0.1; pass the users'
tokens with --token). Each simulated user loops over a weighted mix of requests: the release
list with filters and keyset pages, a release's detail, request a release, edit it, comment,
upload a deliverable, advance and return, the approvals inbox and the calendar. Traffic is
bounded by time (--minutes) and by count (--max-requests). At the end it prints the responses
by status, p50/p99 latency per kind of request, and the resident memory (VmRSS) of every
server and worker process at the start and the end.

    .venv/bin/python bench/soak.py [--minutes 30] [--users 6] [--workers 2]
    .venv/bin/python bench/soak.py --url http://127.0.0.1:8101 --token T1 --token T2 --pid 1234
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import free_port, fresh_postgres  # bench/common.py

BIN = Path(sys.executable).parent
APP = "soak"
ROLES = ["requester", "release_manager", "tester", "pmo", "cab_member", "change_manager"]


def seed(users: int) -> list[str]:
    """Migrate, load the presets, make the application, users with tokens, a few releases."""
    import django

    django.setup()
    from django.core.management import call_command

    from relman.accounts import services as accounts
    from relman.accounts.models import Role
    from relman.cmdb.models import Application
    from relman.processes.services import load_processes
    from relman.releases import services as releases

    call_command("migrate", verbosity=0)
    load_processes()
    app = Application.objects.create(code=APP, name="Soak application", process_name="tfdl")
    roles = set(Role.objects.values_list("code", flat=True))
    tokens = []
    for i in range(users):
        user, _pw = accounts.create_user(
            None, username=f"soak{i}", password="soak-Pass-12345", department="IT"
        )
        for role in ROLES:
            if role in roles:
                accounts.assign_role(None, user, role, APP)
        _token, secret = accounts.create_token(None, user, name="soak")
        tokens.append(secret)
        for n in range(3):
            releases.create_release(
                user, application=app, title=f"Seed {i}-{n}", kind="upgrade", method="planned"
            )
    return tokens


def rss_kb(pid: int) -> int | None:
    """The resident memory of a process, from /proc/<pid>/status (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def process_tree(root: int) -> list[int]:
    """The process and its descendants (gunicorn master, web workers)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return sorted(found)


@dataclass
class Stats:
    """Latencies and statuses per kind of request, shared by the user threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: collections.Counter = field(default_factory=collections.Counter)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, status: int | str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[(kind, status)] += 1
            self.count += 1


class User:
    """One simulated user: an HTTP client with a token, and the releases it works on."""

    def __init__(self, base: str, token: str, stats: Stats, rng: random.Random) -> None:
        import httpx

        self.http = httpx.Client(
            base_url=f"{base}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        self.stats, self.rng = stats, rng
        self.mine: list[str] = []
        self.seen: list[str] = []

    def call(self, kind: str, method: str, path: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            response = self.http.request(method, path, **kwargs)
        except Exception as exc:  # a refused or reset connection is a result to count
            self.stats.add(kind, type(exc).__name__, time.perf_counter() - started)
            return None
        self.stats.add(kind, response.status_code, time.perf_counter() - started)
        return response

    def _number(self) -> str | None:
        pool = self.mine or self.seen
        return self.rng.choice(pool) if pool else None

    def list_releases(self) -> None:
        params = {"limit": self.rng.choice([10, 25, 50]), "application": APP}
        params.update(self.rng.choice([{}, {"status": "in_progress"}, {"kind": "upgrade"}]))
        response = self.call("list", "GET", "/releases", params=params)
        if response is not None and response.status_code == 200:
            body = response.json()
            self.seen = [r["number"] for r in body["items"]][:50] or self.seen
            if body.get("next"):
                self.call(
                    "list page 2", "GET", "/releases", params={**params, "cursor": body["next"]}
                )

    def detail(self) -> dict | None:
        number = self._number()
        if number is None:
            return None
        response = self.call("detail", "GET", f"/releases/{number}")
        return response.json() if response is not None and response.status_code == 200 else None

    def create(self) -> None:
        payload = {
            "application": APP,
            "title": f"Soak {self.rng.randrange(10**6)}",
            "kind": "upgrade",
        }
        response = self.call("create", "POST", "/releases", json=payload)
        if response is not None and response.status_code == 201:
            self.mine = [*self.mine[-19:], response.json()["number"]]

    def edit(self) -> None:
        release = self.detail()
        if release:
            self.call(
                "edit",
                "PATCH",
                f"/releases/{release['number']}",
                json={"revision": release["revision"], "scope": f"Scope {time.time():.0f}"},
            )

    def comment(self) -> None:
        number = self._number()
        if number:
            self.call(
                "comment", "POST", f"/releases/{number}/comments", json={"body": "Soak comment"}
            )

    def upload(self) -> None:
        release = self.detail()
        if not release:
            return
        keys = [g["key"] for g in release["gate"] if g["kind"] == "deliverable"] or ["release_plan"]
        content = f"plan {self.rng.random()}\n".encode()
        self.call(
            "upload",
            "POST",
            f"/releases/{release['number']}/deliverables",
            data={"key": self.rng.choice(keys), "note": "soak"},
            files={"file": ("plan.txt", content, "text/plain")},
        )

    def move(self) -> None:
        release = self.detail()
        if not release:
            return
        actions = {a["action"]: a for a in release["actions"]}
        back = actions.get("return")
        if back and back["allowed"] and back["targets"] and self.rng.random() < 0.5:
            payload = {
                "revision": release["revision"],
                "target": back["targets"][0],
                "reason": "soak",
            }
            self.call(
                "return", "POST", f"/releases/{release['number']}/actions/return", json=payload
            )
        else:
            payload = {"revision": release["revision"]}
            self.call(
                "advance", "POST", f"/releases/{release['number']}/actions/advance", json=payload
            )

    def inbox(self) -> None:
        self.call("inbox", "GET", "/approvals/inbox")

    def calendar(self) -> None:
        start = time.strftime("%Y-%m-01")
        end = time.strftime("%Y-12-31")
        self.call("calendar", "GET", "/calendar/occurrences", params={"from": start, "to": end})

    MIX = [
        ("list_releases", 30),
        ("detail", 20),
        ("create", 6),
        ("edit", 8),
        ("comment", 8),
        ("upload", 6),
        ("move", 8),
        ("inbox", 8),
        ("calendar", 6),
    ]

    def run(self, deadline: float, max_requests: int, pause: float) -> None:
        names, weights = zip(*self.MIX, strict=True)
        while time.monotonic() < deadline and self.stats.count < max_requests:
            getattr(self, self.rng.choices(names, weights)[0])()
            time.sleep(pause)
        self.http.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(stats: Stats, memory: dict[int, tuple[int | None, int | None]], seconds: float) -> None:
    print(f"\n{stats.count} requests in {seconds:.0f} s ({stats.count / seconds:.1f}/s)")
    print(f"\n{'request':14s} {'n':>6s} {'p50 ms':>8s} {'p99 ms':>8s}  statuses")
    for kind in sorted(stats.latencies):
        values = stats.latencies[kind]
        statuses = ", ".join(
            f"{status}: {n}"
            for (k, status), n in sorted(stats.statuses.items(), key=str)
            if k == kind
        )
        print(
            f"{kind:14s} {len(values):6d} {statistics.median(values) * 1000:8.1f} "
            f"{percentile(values, 0.99) * 1000:8.1f}  {statuses}"
        )
    by_status = collections.Counter()
    for (_kind, status), n in stats.statuses.items():
        by_status[status] += n
    errors = {s: n for s, n in by_status.items() if not (isinstance(s, int) and s < 500)}
    print(f"\nresponses by status: {dict(sorted(by_status.items(), key=str))}")
    print(f"errors (5xx, connection failures): {errors or 'none'}")
    print("\nmemory (VmRSS)  pid      start MB    end MB   growth MB")
    for pid, (start, end) in sorted(memory.items()):
        start_mb = f"{start / 1024:8.1f}" if start else "       -"
        end_mb = f"{end / 1024:8.1f}" if end else "    gone"
        growth = f"{(end - start) / 1024:+8.1f}" if start and end else "       -"
        print(f"                {pid:<8d} {start_mb}  {end_mb}    {growth}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pause", type=float, default=0.05, help="seconds between a user's requests"
    )
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--url", help="drive this server (http://127.0.0.1:PORT) instead")
    parser.add_argument("--token", action="append", default=[], help="with --url: a user's token")
    parser.add_argument(
        "--pid", type=int, action="append", default=[], help="with --url: pids to watch"
    )
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/relman_soak")
    args = parser.parse_args()
    if not 0 < args.minutes <= 24 * 60 or not 0 < args.users <= 50:
        raise SystemExit("--minutes must be in (0, 1440] and --users in 1..50")

    server = data_dir = None
    if args.url:
        if urllib.parse.urlsplit(args.url).hostname not in {"127.0.0.1", "localhost"}:
            raise SystemExit("the soak test only drives a server on 127.0.0.1")
        if not args.token:
            raise SystemExit("--url needs at least one --token")
        base, tokens, watched = args.url.rstrip("/"), args.token, args.pid
    else:
        data_dir = tempfile.mkdtemp(prefix="relman-soak-")
        os.environ.update(
            RELMAN_DATA_DIR=data_dir,
            DJANGO_SETTINGS_MODULE="relman.settings",
            DATABASE_URL=args.database_url,
        )
        fresh_postgres(args.database_url)
        tokens = seed(args.users)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # Django's logging set it to INFO
        port = free_port()
        server = subprocess.Popen(
            [str(BIN / "relman"), "serve", "--port", str(port), "--workers", str(args.workers)],
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        base, watched = f"http://127.0.0.1:{port}", [server.pid]
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        else:
            detail = server.stderr.read().decode()[-2000:] if server else ""
            raise SystemExit(f"the server does not answer at {base}\n{detail}")
        time.sleep(2)  # let the embedded workers finish starting
        pids = sorted({p for root in watched for p in process_tree(root)})
        memory = {pid: (rss_kb(pid), None) for pid in pids}
        stats = Stats()
        started = time.monotonic()
        deadline = started + args.minutes * 60
        threads = [
            threading.Thread(
                target=User(base, tokens[i % len(tokens)], stats, random.Random(i)).run,
                args=(deadline, args.max_requests, args.pause),
                daemon=True,
            )
            for i in range(args.users)
        ]
        print(
            f"soak: {args.users} users against {base} for {args.minutes:g} min "
            f"(at most {args.max_requests} requests); watching pids {pids}"
        )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.minutes * 60 + 60)
        elapsed = time.monotonic() - started
        memory = {pid: (start, rss_kb(pid)) for pid, (start, _end) in memory.items()}
        report(stats, memory, elapsed)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
