"""Schemathesis over the whole OpenAPI document, in-process through the WSGI application.

Every operation is fuzzed twice: with the bearer token of an administrator and with that
of an ordinary user (rita, a requester of crm). Both see a small world made through the
factories (releases, a deliverable, windows, a freeze, a CAB meeting, a delegation, a
subscription, configuration items and a relationship, changes), and half of the generated path
parameters are swapped for the ids and numbers of those objects, so the fuzzing reaches
past the 404s.

Every check schemathesis has is on: no server error, the status, the content type and the
body conform to the document, invalid data is refused and valid data accepted, and so on.
Valid data may be refused with a 400 or 422, for what a schema cannot say (a stale cursor,
an application that does not exist, a rule of the process).

The world is made once for the module, inside a transaction rolled back at its end; each
operation runs in a savepoint of it (pytest-django's `db`), so what one operation's
examples write is gone before the next operation starts. The examples of one operation
share their rows, which the checks tolerate.

`RELMAN_FUZZ_EXAMPLES` sets the examples per operation (10 by default; `make fuzz` runs
200). The run is derandomized, so it is the same on every machine, unless
`RELMAN_FUZZ_RANDOM=1` (`make fuzz` sets it) lets Hypothesis pick new inputs each time.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections, transaction
from django.test.utils import override_settings
from django.utils import timezone
from schemathesis.config import PositiveDataAcceptanceConfig

from relman.accounts.services import create_token
from relman.wsgi import application
from tests import factories
from tests.api.matrix import World

EXAMPLES = int(os.environ.get("RELMAN_FUZZ_EXAMPLES", "10"))
RANDOM = os.environ.get("RELMAN_FUZZ_RANDOM", "") == "1"

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.generation.update(max_examples=EXAMPLES, deterministic=not RANDOM, database="none")
schema.config.suppress_health_check = list(schemathesis.config.HealthCheck)
# A schema-valid request may still be refused for what the schema cannot say (an unknown
# application, a stale cursor, a rule of the process): a 400 or 422 naming the field.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=[*PositiveDataAcceptanceConfig().expected_statuses, 400, 422]
)

# What the path parameters may name in the world, and the token of the caller: set by the
# fixtures below.
KNOWN: dict[str, list[Any]] = {}
CALLER: dict[str, str] = {}


@schema.auth(refresh_interval=None)
class BearerToken:
    """The caller's token, given to schemathesis as the API's authentication, so that its
    checks of refused credentials (`ignored_auth`) know what to leave out."""

    def get(self, case: schemathesis.Case, context: Any) -> str:
        return CALLER.get("secret", "")

    def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.hook
def before_call(context: Any, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """For half of the generated path values (chosen by the value, so a run is repeatable),
    name an object of the world instead.

    Only in positive examples: a negative one keeps what makes it invalid. The hook
    is global (schemathesis has no other scope for it), so it acts only inside these tests."""
    if not CALLER or (case.meta and case.meta.generation.mode.is_negative):
        return
    for name, value in (case.path_parameters or {}).items():
        digest = zlib.crc32(repr(value).encode())
        if KNOWN.get(name) and digest % 2:
            case.path_parameters[name] = KNOWN[name][digest // 2 % len(KNOWN[name])]


class FuzzWorld(World):
    """The matrix's world, with an administrator and objects behind every kind of id."""

    def __init__(self) -> None:
        super().__init__()
        self.users["admin"] = factories.admin("ada")
        admin, rita = self.users["admin"], self.users["requester"]
        now = timezone.now()
        window = factories.release_window(self.app)
        scheduled = factories.release(rita, self.app, title="Scheduled")
        factories.schedule(admin, scheduled)
        from relman.approvals.services import cab, delegation
        from relman.calendar.services import freezes, plan
        from relman.notifications.services import subscriptions

        freeze = freezes.create_freeze(
            admin,
            name="Year end",
            reason="Closing the books.",
            starts=now + timedelta(days=60),
            ends=now + timedelta(days=70),
            application=self.app,
        )
        meeting = cab.schedule_meeting(
            admin, "Weekly CAB", now + timedelta(days=1), chair=admin, members=[self.users["crew"]]
        )
        handover = delegation.create_delegation(
            rita,
            delegate=self.users["owner"],
            starts=now,
            ends=now + timedelta(days=7),
            reason="Holiday.",
        )
        subscription = subscriptions.create_subscription(
            rita, user=rita, channel="email", target="rita@example.com"
        )
        year = timezone.localdate().year
        drafted = plan.generate_plan(admin, year)
        occurrences = list(drafted.occurrences.values_list("pk", flat=True)[:3])
        # The CMDB: crm-db <- crm-app (runs on) <- crm-portal (a service owned by WEB), a
        # version on crm-app; the release touches crm-db.
        from relman.cmdb import services as cmdb
        from relman.cmdb.models import Relationship
        from tests.api.test_scope import cmdb as touched

        touched(self)
        database, crm_app = self._cmdb["db"], self._cmdb["app"]
        runs_on = Relationship.objects.get(source=crm_app, target=database)
        cmdb.record_deployed_version(admin, crm_app, application=self.app, version="1.0")
        # Changes: one submitted from Jira, one approved and carried by the first release.
        from relman.changes import services as changes

        changer = factories.user("owen", "change_owner", "cab_member", app=self.app)
        board = factories.user("bea", "cab_member", app=self.app)
        jira = changes.create_change(
            changer,
            title="Upgrade the CRM database",
            application=self.app,
            external_system="jira",
            external_key="CRM-7",
            submit=True,
        )
        carried = changes.approve_change(
            board,
            changes.create_change(changer, title="Carried", application=self.app, submit=True),
        )
        self.release.refresh_from_db()
        changes.change_release_changes(
            rita, self.release, "add", [carried.number], revision=self.release.revision
        )
        releases = [self.release, self.in_review, scheduled]
        KNOWN.update(
            ref=[r.number for r in releases] + [str(r.pk) for r in releases],
            action=["advance", "return", "cancel"],
            key=["release_plan"],
            number=[1, jira.number, carried.number],
            system=["jira", "servicenow"],
            window_id=[window.pk],
            freeze_id=[freeze.pk],
            meeting_id=[meeting.pk],
            delegation_id=[handover.pk],
            subscription_id=[subscription.pk],
            occurrence_id=occurrences,
            year=[year],
            name=["tfdl", "feh"],
            item_id=[database.pk, crm_app.pk],
            relationship_id=[runs_on.pk],
            code=["server", "document"],
        )
        self.secrets = {}
        for who in ("admin", "requester"):
            _token, self.secrets[who] = create_token(None, self.users[who], name="fuzz")


@pytest.fixture(scope="module")
def fuzz_world(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzWorld]:
    """The world, made once in a transaction that is rolled back after the module."""
    media = tmp_path_factory.mktemp("fuzz-files")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=media,
            RELMAN_PROCESS_DIRS=[],
            RELMAN_CHANGE_WEBHOOK_SECRET="fuzz-secret",  # unsigned calls are refused (401)
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
    ):
        atomics = {alias: transaction.atomic(using=alias) for alias in connections}
        for atomic in atomics.values():
            atomic.__enter__()
        # Schemathesis calls the WSGI application itself, not Django's test client: keep the
        # request signals from closing the connection that holds the module's transaction
        # (with CONN_MAX_AGE 0 they would, on PostgreSQL), as the test client does.
        for signal in (request_started, request_finished):
            signal.disconnect(close_old_connections)
        try:
            yield FuzzWorld()
        finally:
            for signal in (request_started, request_finished):
                signal.connect(close_old_connections)
            for alias, atomic in atomics.items():
                transaction.set_rollback(True, using=alias)
                atomic.__exit__(None, None, None)
            KNOWN.clear()


@pytest.fixture
def _data_dir(fuzz_world: FuzzWorld) -> None:
    """The module's world keeps its files where it stored them (overrides the suite's)."""


@pytest.fixture(params=["admin", "requester"])
def caller(request: pytest.FixtureRequest, fuzz_world: FuzzWorld, db: None) -> Iterator[str]:
    """The administrator, then rita (a requester of crm): `BearerToken` sends their token."""
    CALLER["secret"] = fuzz_world.secrets[request.param]
    yield request.param
    CALLER.clear()


@schema.parametrize()
@hypothesis.settings(deadline=None)
def test_api_conforms_to_its_document(case: schemathesis.Case, caller: str) -> None:
    case.call_and_validate()
