"""Running relman: the web server (gunicorn) with its embedded background worker, and workers.

With the default `memory://` broker, queued tasks live in the memory of the process that queued
them, so each web worker process runs its own Celery worker (a threads pool) and the first one
also runs beat, the periodic-task clock. With a real broker (Redis, RabbitMQ) tasks can run on
`relman worker` processes anywhere instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from relman.cli.bootstrap import (
    describe_database,
    mask_url,
    on_server,
    setup_django,
    unapplied_migrations,
)
from relman.cli.i18n import _
from relman.cli.output import ExitCode, fail, note, say, warn

logger = logging.getLogger("relman.cli.server")


class _NoHostnameNoise(logging.Filter):
    """Drop kombu's 'No hostname was supplied' warning: a memory:// broker has no host."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record but that one."""
        return not record.getMessage().startswith("No hostname was supplied")


def _quiet_memory_transport(broker: str) -> None:
    if broker.startswith("memory://"):
        kombu_logger = logging.getLogger("kombu.connection")
        if not any(isinstance(f, _NoHostnameNoise) for f in kombu_logger.filters):
            kombu_logger.addFilter(_NoHostnameNoise())


class EmbeddedWorker:
    """A Celery worker (threads pool) and, optionally, beat, running inside this process.

    `start()` returns once the worker consumes tasks; `stop()` lets running tasks finish
    (warm shutdown) within `timeout` seconds. Beat runs in at most one process per data
    directory: the one that holds the lock file `beat.lock` there.
    """

    def __init__(
        self,
        app: Any = None,
        *,
        concurrency: int = 2,
        beat: bool = True,
        data_dir: Path | None = None,
    ) -> None:
        if app is None:
            from relman.celery import app
        self.app = app
        self.concurrency = concurrency
        self.want_beat = beat
        self.data_dir = data_dir
        self.worker: Any = None
        self.beat: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._beat_lock: int | None = None

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def beat_running(self) -> bool:
        """Whether this process runs beat."""
        return self.beat is not None and self.beat.is_alive()

    def start(self, timeout: float = 20.0) -> None:
        """Start the worker (and beat, if this process gets the lock) in daemon threads."""
        from celery.worker import WorkController

        _quiet_memory_transport(self.app.conf.broker_url or "")
        self.worker = WorkController(
            app=self.app,
            hostname=f"relman-embedded-{os.getpid()}@{socket.gethostname()}",
            pool_cls="threads",
            concurrency=self.concurrency,
            ready_callback=lambda consumer: self._ready.set(),
            task_events=False,
            without_mingle=True,
            without_gossip=True,
            without_heartbeat=True,
            beat=False,  # the worker's own beat step forks a process; we run beat in a thread
        )
        self._thread = threading.Thread(
            target=self.worker.start, name="relman-embedded-worker", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop(timeout=2)
            raise RuntimeError(f"the embedded worker did not start within {timeout:.0f} s")
        if self.want_beat and self._lock_beat():
            from celery.beat import EmbeddedService

            schedule = Path(self.data_dir or ".") / "celerybeat-schedule"
            self.beat = EmbeddedService(self.app, thread=True, schedule_filename=str(schedule))
            self.beat.start()

    def _lock_beat(self) -> bool:
        """Take the beat lock in the data directory; False when another process has it."""
        if self.data_dir is None:
            return True
        Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(Path(self.data_dir) / "beat.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._beat_lock = fd
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Stop beat, then the worker, letting running tasks finish; wait at most `timeout` s."""
        if self.beat is not None:
            self.beat.service.stop()
            self.beat.join(timeout)
            self.beat = None
        if self._beat_lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._beat_lock, fcntl.LOCK_UN)
                os.close(self._beat_lock)
            self._beat_lock = None
        if self.worker is not None and self.running:
            self.worker.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning("the embedded worker did not stop within %.0f s", timeout)
        self._ready.clear()


# ---------------------------------------------------------------- gunicorn


def _gunicorn_application(options: dict[str, Any]) -> Any:
    """A gunicorn application serving relman's WSGI app with `options`."""
    from gunicorn.app.base import BaseApplication

    class RelmanServer(BaseApplication):
        """gunicorn, configured from the command line of `relman serve` only."""

        def load_config(self) -> None:
            """Take the options given, and nothing from gunicorn's command line or files."""
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            """relman's WSGI application (importing it sets Django up)."""
            from relman.wsgi import application

            return application

    return RelmanServer()


def _hooks(embedded: bool, concurrency: int) -> dict[str, Any]:
    """gunicorn hooks: start the embedded worker in each web worker, stop it on exit."""
    state: dict[str, EmbeddedWorker] = {}

    def post_worker_init(worker: Any) -> None:
        """In each web worker, once the app is loaded: freeze it, start the embedded worker."""
        # The WSGI app (and so Django) is loaded: keep its long-lived objects out of the
        # garbage collector's way.
        gc.collect()
        gc.freeze()
        if embedded:
            from django.conf import settings

            embedded_worker = EmbeddedWorker(
                concurrency=concurrency, beat=True, data_dir=settings.DATA_DIR
            )
            embedded_worker.start()
            state["worker"] = embedded_worker
            note(
                _("Embedded worker ready in process %(pid)d (periodic tasks: %(beat)s).")
                % {
                    "pid": os.getpid(),
                    "beat": _("here") if embedded_worker.beat_running else _("another process"),
                }
            )

    def worker_exit(server: Any, worker: Any) -> None:
        """When a web worker exits: let the embedded worker finish its tasks and stop."""
        embedded_worker = state.pop("worker", None)
        if embedded_worker is not None:
            embedded_worker.stop(timeout=10)

    return {"post_worker_init": post_worker_init, "worker_exit": worker_exit}


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(
                _("Cannot listen on %(host)s:%(port)d: %(error)s. Choose another with --port.")
                % {"host": host, "port": port, "error": exc.strerror or exc},
            )


def serve(
    host: Annotated[str, typer.Option(help=_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(help=_("Port to listen on."), min=1, max=65535, envvar="RELMAN_PORT"),
    ] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            help=_("Web worker processes (default: 1 with the embedded worker, else 2)."), min=1
        ),
    ] = None,
    threads: Annotated[int, typer.Option(help=_("Threads per web worker."), min=1)] = 4,
    embedded_worker: Annotated[
        bool | None,
        typer.Option(
            "--embedded-worker/--no-embedded-worker",
            help=_(
                "Run the background worker inside the server (default: yes with the "
                "memory:// broker, no with a real one)."
            ),
        ),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log", help=_("Log every request on stdout."))
    ] = False,
) -> None:
    """Serve relman over HTTP with gunicorn. Ctrl-C stops it."""
    with on_server():
        from django.conf import settings
        from django.db import connections

        if pending := unapplied_migrations():
            fail(
                _(
                    "The database is not set up (%(n)d migrations missing): run `relman setup` first."
                )
                % {"n": len(pending)}
            )
        connections.close_all()  # the web workers are forked: they open their own
        broker = settings.CELERY_BROKER_URL
        data_dir = settings.DATA_DIR
        allowed = settings.ALLOWED_HOSTS
    in_memory = broker.startswith("memory://")
    embedded = in_memory if embedded_worker is None else embedded_worker
    if in_memory and not embedded:
        warn(
            _(
                "The broker is memory:// and the embedded worker is off: background tasks will "
                "never run. Drop --no-embedded-worker, or set RELMAN_BROKER_URL."
            )
        )
    workers = workers or (1 if embedded else 2)
    if host not in {"127.0.0.1", "localhost", "::1"} and "*" not in allowed:
        warn(
            _("Requests must name one of RELMAN_ALLOWED_HOSTS (now: %s) as their host.")
            % ", ".join(allowed)
        )
    _check_port(host, port)
    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "proc_name": "relman",
        "graceful_timeout": 15,
        "loglevel": "warning",
        "errorlog": "-",
        "accesslog": "-" if access_log else None,
        **_hooks(embedded, concurrency=2),
    }
    url_host = f"[{host}]" if ":" in host else host
    say(
        _(
            "relman at http://%(host)s:%(port)d · %(workers)d worker process(es) × %(threads)d "
            "threads · database %(db)s · broker %(broker)s · embedded worker %(embedded)s · "
            "data %(data)s · Ctrl-C stops"
        )
        % {
            "host": url_host,
            "port": port,
            "workers": workers,
            "threads": threads,
            "db": describe_database(),
            "broker": mask_url(broker),
            "embedded": _("on") if embedded else _("off"),
            "data": data_dir,
        }
    )
    _gunicorn_application(options).run()


def worker(
    concurrency: Annotated[
        int | None, typer.Option(help=_("Tasks run at once (default: the CPU count)."), min=1)
    ] = None,
    beat: Annotated[
        bool,
        typer.Option("--beat", help=_("Also run the periodic-task clock (in exactly one worker).")),
    ] = False,
    pool: Annotated[
        str, typer.Option(help=_("Celery pool: prefork, threads or solo."))
    ] = "prefork",
    loglevel: Annotated[str, typer.Option(help=_("Log level."))] = "info",
) -> None:
    """Run a standalone background worker against a real broker (RELMAN_BROKER_URL)."""
    setup_django()
    from django.conf import settings

    broker = settings.CELERY_BROKER_URL
    if broker.startswith("memory://"):
        fail(
            _(
                "The broker is memory://, which only works inside `relman serve` (its embedded "
                "worker). For separate workers set RELMAN_BROKER_URL, e.g. redis://host:6379/0, "
                "for the servers and the workers."
            ),
            code=ExitCode.REFUSED,
        )
    from relman.celery import app as celery_app

    argv = ["worker", f"--loglevel={loglevel}", f"--pool={pool}", "--hostname=relman@%h"]
    if concurrency:
        argv.append(f"--concurrency={concurrency}")
    if beat:
        argv += ["--beat", f"--schedule={Path(settings.DATA_DIR) / 'celerybeat-schedule'}"]
    say(
        _("relman worker · broker %(broker)s · database %(db)s")
        % {"broker": mask_url(broker), "db": describe_database()}
    )
    celery_app.worker_main(argv)
