"""Running server-side commands: Django set up in-process, on demand.

Imported by every admin command, never at the top of a module, so that `relman --help` and the
API client commands start without loading Django.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from relman.cli.i18n import _, language
from relman.cli.output import ExitCode, fail, problem_lines


def setup_django() -> None:
    """Configure Django with relman's settings (once per process)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relman.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def describe_database() -> str:
    """The database engine and name, never its password: 'sqlite /path' or 'postgresql db@host'."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        return f"sqlite {db['NAME']}"
    where = db.get("HOST") or "localhost"
    if db.get("PORT"):
        where = f"{where}:{db['PORT']}"
    return f"{engine} {db.get('NAME')}@{where}"


def mask_url(url: str) -> str:
    """A URL with its password replaced by ***, fit to print."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def unapplied_migrations() -> list[str]:
    """The migrations not yet applied to the database (empty when it is up to date)."""
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def _database_failure(exc: Exception) -> None:
    """Explain a database error: not reachable, or not set up yet."""
    from django.db import DatabaseError

    try:
        not_set_up = bool(unapplied_migrations())
    except DatabaseError:
        not_set_up = False
    if not_set_up:
        fail(
            _("The database is not set up (%(db)s): run `relman setup` first.")
            % {"db": describe_database()},
            code=ExitCode.REFUSED,
        )
    fail(
        _("Cannot use the database (%(db)s): %(error)s")
        % {"db": describe_database(), "error": " ".join(str(exc).split())},
        code=ExitCode.UNREACHABLE,
    )


@contextlib.contextmanager
def on_server() -> Iterator[None]:
    """Run the block as a server-side admin action.

    Django is set up, the user's language is active, services record the channel `cli` in the
    audit log, and domain errors become red messages with the documented exit codes.
    """
    setup_django()
    from django.db import DatabaseError
    from django.utils import translation

    from relman.core.choices import Channel
    from relman.core.context import acting_through
    from relman.core.errors import DomainError, GateNotMet
    from relman.processes.loader import InvalidProcess

    try:
        with translation.override(language()), acting_through(Channel.CLI):
            yield
    except DomainError as exc:
        unmet = exc.unmet if isinstance(exc, GateNotMet) else None
        headline, lines = problem_lines(exc.message, exc.errors, unmet)
        code = ExitCode.CONFLICT if exc.status == 409 else ExitCode.REFUSED
        fail(headline, lines, code=code)
    except InvalidProcess as exc:
        fail(
            _("The process files have problems; nothing was loaded:"),
            [str(p) for p in exc.problems],
        )
    except DatabaseError as exc:
        _database_failure(exc)


def find_user(username: str) -> Any:
    """The user called `username`, or a refusal naming them."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        fail(_("There is no user '%s'. `relman user list` shows them.") % username)
    return user
