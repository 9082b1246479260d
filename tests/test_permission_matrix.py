"""The permission matrix, checked against the URL map.

Every API operation of the OpenAPI document and every page of Django's URL resolver (each
method it accepts: GET, and POST where it takes a form) has one explicit entry below,
giving the status it answers to four callers:

- anonymous (no credentials);
- `no_role`: a signed-in user who holds no role at all (nina);
- `other_app`: a user holding roles for another application only (otto, roles for hr);
- `right`: the user the entry names, who may do it.

`test_every_endpoint_has_an_entry` fails when the URL map has an endpoint the tables do not
list, and `test_every_entry_is_an_endpoint` when an entry names one that no longer exists.

API entries send the request of an `Endpoint` of the per-app matrices (tests/api/matrix.py
and its users), named by `recipe`, in the world that matrix uses; page entries carry their
own URL arguments and form data, in `PageWorld`. A refused call must leave no audit event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from relman.audit.models import AuditEvent
from tests import factories
from tests.api import (
    test_accounts,
    test_audit,
    test_changes,
    test_cmdb,
    test_cmdb_items,
    test_processes,
    test_releases,
    test_reports,
    test_scope,
    test_teams,
)
from tests.api.matrix import Endpoint, World, openapi
from tests.approvals import test_cab_api, test_inbox_api, test_readiness_api
from tests.calendar import test_api as calendar_api
from tests.notifications import test_api as notifications_api

# The per-app matrix classes are reached through their modules: imported by name here,
# pytest would collect and run them a second time.
pytestmark = pytest.mark.django_db

CALLERS = ("anonymous", "no_role", "other_app", "right")

# Parts of the URL map that are not ours to list: Django's admin site (staff only, Django's
# own permissions) and the API, whose operations come from the OpenAPI document instead.
NOT_PAGES = ("admin/", "api/v1/")


@dataclass(frozen=True)
class Expect:
    """What an endpoint answers to each caller. `recipe` names the per-app matrix's
    `Endpoint` whose request an API entry sends ("TestReleaseEndpoints.detail")."""

    anonymous: int
    no_role: int
    other_app: int
    right: int
    recipe: str = ""


@dataclass(frozen=True)
class Page:
    """What a page answers to each caller, the user who may use it (a `PageWorld` user),
    its URL arguments and its form, and whether the right user's call writes an audit event."""

    anonymous: int
    no_role: int
    other_app: int
    right: int
    who: str = "requester"
    kwargs: Callable[[PageWorld], dict[str, Any]] = field(default=lambda w: {})
    data: Callable[[PageWorld], dict[str, Any]] | None = None
    writes: bool = False
    everyone: bool = False  # every signed-in user may use it (for themselves)
    # a role for any application suffices: the CAB is organisation-wide, and those who hold
    # cab_member or release_manager anywhere run its meetings (approvals/services/cab.py)
    any_application: bool = False


# ------------------------------------------------------------------ the worlds

# The matrices whose endpoints the API entries may name, with the world each one runs in.
MATRICES: dict[str, tuple[type, Callable[[], Any]]] = {
    m.__name__: (m, world)
    for m, world in (
        (test_releases.TestReleaseEndpoints, World),
        (test_scope.TestScopeEndpoints, World),
        (test_processes.TestProcessEndpoints, World),
        (test_audit.TestAuditEndpoints, World),
        (test_accounts.TestAccountEndpoints, World),
        (test_cmdb.TestReferenceDataEndpoints, World),
        (test_cmdb_items.TestCmdbEndpoints, test_cmdb_items.CmdbWorld),
        (test_teams.TestTeamEndpoints, test_teams.TeamWorld),
        (test_changes.TestChangeEndpoints, test_changes.ChangesWorld),
        (test_changes.WebhookRecipes, test_changes.ChangesWorld),
        (test_reports.TestReportEndpoints, World),
        (test_inbox_api.TestApprovalEndpoints, World),
        (test_readiness_api.TestReadinessMatrix, test_readiness_api.ReadinessWorld),
        (test_cab_api.TestCabApi, test_cab_api.CabApiWorld),
        (notifications_api.TestNotificationEndpoints, notifications_api.NotificationWorld),
        (calendar_api.TestWindowEndpoints, calendar_api.CalendarWorld),
        (calendar_api.TestFreezeEndpoints, calendar_api.CalendarWorld),
        (calendar_api.TestScheduleEndpoints, calendar_api.CalendarWorld),
        (calendar_api.TestPlanEndpoints, calendar_api.CalendarWorld),
    )
}


def with_callers(world: Any) -> Any:
    """Give a world its no-role and other-application users when it has none."""
    if "nobody" not in world.users:
        world.users["nobody"] = factories.user("nina")
    if "outsider" not in world.users:
        other = factories.application("hr", process="tfdl")
        world.users["outsider"] = factories.user(
            "otto", "requester", "release_manager", "release_owner", "cab_member", app=other
        )
    return world


class PageWorld(World):
    """The matrix's world for the pages: carl (crm's crew) also chairs a CAB meeting,
    an administrator (ada) runs the outbox, and rita has a delegation and a subscription."""

    def __init__(self) -> None:
        super().__init__()
        self.users["admin"] = factories.admin("ada")
        self.users["member"] = factories.user("mia", "cab_member")

    def login(self, who: str) -> Client:
        client = Client()
        if who != "anonymous":
            client.force_login(self.users[who])
        return client

    @cached_property
    def meeting(self) -> Any:
        from relman.approvals.services import cab

        return cab.schedule_meeting(
            self.users["admin"],
            "Weekly CAB",
            timezone.now() + timedelta(days=1),
            chair=self.users["admin"],
            members=[self.users["member"]],
        )

    @cached_property
    def token(self) -> Any:
        from relman.accounts.services import create_token

        return create_token(None, self.users["requester"], name="rita's")[0]

    @cached_property
    def ci(self) -> Any:
        from relman.cmdb.models import CIType, ConfigurationItem

        server = CIType.objects.get_or_create(code="server", defaults={"name": "Server"})[0]
        return ConfigurationItem.objects.create(type=server, name="crm-app1-prod")

    @cached_property
    def team(self) -> Any:
        return factories.team("ops", "Operations")

    @cached_property
    def change(self) -> Any:
        """A change of crm rita requested and sent to change management."""
        from relman.changes import services as changes

        return changes.create_change(
            self.users["requester"],
            title="Upgrade the CRM database",
            application=self.app,
            submit=True,
        )

    @cached_property
    def reviewable(self) -> Any:
        """An approved change (by mia, a CAB member everywhere) carried by a cancelled release."""
        from relman.changes import services as changes
        from relman.releases import services as releases

        change = changes.create_change(
            self.users["requester"], title="Carried", application=self.app, submit=True
        )
        changes.approve_change(self.users["member"], change)
        carrier = factories.release(self.users["requester"], self.app, title="Carrier")
        changes.change_release_changes(
            self.users["requester"], carrier, "add", [change.number], revision=carrier.revision
        )
        carrier.refresh_from_db()
        releases.cancel(self.users["crew"], carrier, revision=carrier.revision, reason="Moved.")
        self.carrier = carrier
        return change

    @cached_property
    def delegation(self) -> Any:
        from relman.approvals.services import delegation

        now = timezone.now()
        return delegation.create_delegation(
            self.users["owner"],
            delegate=self.users["crew"],
            starts=now,
            ends=now + timedelta(days=7),
            reason="Holiday.",
        )

    @cached_property
    def subscription(self) -> Any:
        from relman.notifications.services import subscriptions

        return subscriptions.create_subscription(
            self.users["requester"],
            user=self.users["requester"],
            event="release.closed",
            target="rita@example.com",
        )

    @cached_property
    def message(self) -> Any:
        """A failed webhook message about crm's release."""
        from django.db import transaction

        from relman.notifications.choices import MessageStatus
        from relman.notifications.models import Message
        from relman.notifications.services import emit, subscriptions

        subscriptions.create_subscription(
            None, channel="webhook", target="https://hooks.example.test/relman"
        )
        with transaction.atomic():
            messages = emit("release.closed", self.release, actor=self.users["crew"])
        [message] = [m for m in messages if m.channel == "webhook"]
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, attempts=8)
        return message

    @cached_property
    def feed_secret(self) -> str:
        from relman.calendar.services import feeds

        _token, secret = feeds.create_feed_token(self.users["requester"], self.users["requester"])
        return secret


def release(w: PageWorld) -> dict[str, Any]:
    return {"number": w.release.number}


def change(w: PageWorld) -> dict[str, Any]:
    return {"number": w.change.number}


def meeting(w: PageWorld) -> dict[str, Any]:
    return {"meeting_id": w.meeting.pk}


# ------------------------------------------------------------------ the tables

API: dict[str, Expect] = {
    "DELETE /api/v1/cmdb/relationships/{relationship_id}": Expect(
        401, 403, 403, 204, "TestCmdbEndpoints.unrelate"
    ),  # librarian
    "GET /api/v1/changes": Expect(401, 200, 200, 200, "TestChangeEndpoints.list"),  # nobody
    "POST /api/v1/changes": Expect(401, 403, 403, 201, "TestChangeEndpoints.create"),  # owen
    "GET /api/v1/changes/{number}": Expect(401, 200, 200, 200, "TestChangeEndpoints.show"),
    "PATCH /api/v1/changes/{number}": Expect(401, 403, 403, 200, "TestChangeEndpoints.edit"),
    "POST /api/v1/changes/{number}/submit": Expect(
        401, 403, 403, 200, "TestChangeEndpoints.submit"
    ),  # owen
    "POST /api/v1/changes/{number}/approve": Expect(
        401, 403, 403, 200, "TestChangeEndpoints.approve"
    ),  # bea, crm's CAB
    "POST /api/v1/changes/{number}/reject": Expect(
        401, 403, 403, 200, "TestChangeEndpoints.reject"
    ),  # bea
    "POST /api/v1/changes/{number}/cancel": Expect(
        401, 403, 403, 200, "TestChangeEndpoints.cancel"
    ),  # owen
    "PUT /api/v1/changes/{number}/external": Expect(
        401, 403, 403, 200, "TestChangeEndpoints.external"
    ),  # owen
    "GET /api/v1/changes/{number}/review": Expect(
        401, 200, 200, 200, "TestChangeEndpoints.reviews"
    ),  # nobody
    "POST /api/v1/changes/{number}/review": Expect(
        401, 403, 403, 201, "TestChangeEndpoints.review"
    ),  # owen, crm's change owner
    # signed by the tracker, no token: off (503) for everyone while no secret is set
    "POST /api/v1/changes/webhook/{system}": Expect(503, 503, 503, 503, "WebhookRecipes.webhook"),
    "GET /api/v1/releases/{ref}/changes": Expect(
        401, 404, 404, 200, "TestChangeEndpoints.release changes"
    ),  # rita
    "POST /api/v1/releases/{ref}/changes": Expect(
        401, 404, 404, 200, "TestChangeEndpoints.add release changes"
    ),
    "PUT /api/v1/releases/{ref}/changes": Expect(
        401, 404, 404, 200, "TestChangeEndpoints.set release changes"
    ),
    "DELETE /api/v1/releases/{ref}/changes": Expect(
        401, 404, 404, 200, "TestChangeEndpoints.remove release changes"
    ),
    "GET /api/v1/cmdb/export": Expect(401, 200, 200, 200, "TestCmdbEndpoints.export"),  # nobody
    "GET /api/v1/cmdb/items": Expect(401, 200, 200, 200, "TestCmdbEndpoints.items"),  # nobody
    "GET /api/v1/cmdb/items/{item_id}": Expect(
        401, 200, 200, 200, "TestCmdbEndpoints.detail"
    ),  # nobody
    "GET /api/v1/cmdb/items/{item_id}/impact": Expect(
        401, 200, 200, 200, "TestCmdbEndpoints.impact"
    ),  # nobody
    "GET /api/v1/cmdb/items/{item_id}/versions": Expect(
        401, 200, 200, 200, "TestCmdbEndpoints.versions"
    ),  # nobody
    "GET /api/v1/cmdb/types": Expect(401, 200, 200, 200, "TestCmdbEndpoints.types"),  # nobody
    "PATCH /api/v1/cmdb/items/{item_id}": Expect(
        401, 403, 403, 200, "TestCmdbEndpoints.change item"
    ),  # librarian
    "PATCH /api/v1/cmdb/types/{code}": Expect(
        401, 403, 403, 200, "TestCmdbEndpoints.change type"
    ),  # librarian
    "POST /api/v1/cmdb/import": Expect(401, 403, 403, 200, "TestCmdbEndpoints.import"),  # librarian
    "POST /api/v1/cmdb/items": Expect(
        401, 403, 403, 201, "TestCmdbEndpoints.create item"
    ),  # librarian
    "POST /api/v1/cmdb/items/{item_id}/retire": Expect(
        401, 403, 403, 200, "TestCmdbEndpoints.retire"
    ),  # librarian
    "POST /api/v1/cmdb/items/{item_id}/versions": Expect(
        401, 403, 403, 201, "TestCmdbEndpoints.record version"
    ),  # librarian
    "POST /api/v1/cmdb/relationships": Expect(
        401, 403, 403, 201, "TestCmdbEndpoints.relate"
    ),  # librarian
    "POST /api/v1/cmdb/types": Expect(
        401, 403, 403, 201, "TestCmdbEndpoints.create type"
    ),  # librarian
    "DELETE /api/v1/approvals/delegations/{delegation_id}": Expect(
        401, 404, 404, 200, "TestApprovalEndpoints.revoke_delegation"
    ),  # owner
    "DELETE /api/v1/notifications/subscriptions/{subscription_id}": Expect(
        401, 404, 404, 204, "TestNotificationEndpoints.unsubscribe"
    ),  # requester
    "GET /api/v1/applications": Expect(
        401, 200, 200, 200, "TestReferenceDataEndpoints.applications"
    ),  # nobody
    "GET /api/v1/applications/environments": Expect(
        401, 200, 200, 200, "TestReferenceDataEndpoints.environments"
    ),  # nobody
    "GET /api/v1/approvals/delegations": Expect(
        401, 200, 200, 200, "TestApprovalEndpoints.delegations"
    ),  # crew
    "GET /api/v1/approvals/inbox": Expect(
        401, 200, 200, 200, "TestApprovalEndpoints.inbox"
    ),  # owner
    "GET /api/v1/audit/verify": Expect(401, 403, 403, 200, "TestAuditEndpoints.verify"),  # auditor
    "GET /api/v1/cab/meetings": Expect(401, 200, 200, 200, "TestCabApi.list meetings"),  # member
    "GET /api/v1/cab/meetings/{meeting_id}": Expect(
        401, 404, 200, 200, "TestCabApi.detail"
    ),  # member
    "GET /api/v1/cab/meetings/{meeting_id}/minutes.pdf": Expect(
        401, 404, 200, 200, "TestCabApi.minutes pdf"
    ),  # member
    "GET /api/v1/cab/waiting": Expect(401, 200, 200, 200, "TestCabApi.waiting"),  # chair
    "GET /api/v1/calendar/conflicts": Expect(
        401, 200, 200, 200, "TestScheduleEndpoints.conflicts"
    ),  # requester
    "GET /api/v1/calendar/freezes": Expect(
        401, 200, 200, 200, "TestFreezeEndpoints.list"
    ),  # nobody
    "GET /api/v1/calendar/freezes/{freeze_id}": Expect(
        401, 200, 200, 200, "TestFreezeEndpoints.detail"
    ),  # nobody
    "GET /api/v1/calendar/occurrences": Expect(
        401, 200, 200, 200, "TestWindowEndpoints.occurrences"
    ),  # nobody
    "GET /api/v1/calendar/plans/{year}": Expect(
        401, 200, 200, 200, "TestPlanEndpoints.show"
    ),  # nobody
    "GET /api/v1/calendar/releases/{ref}/schedule": Expect(
        401, 404, 404, 200, "TestScheduleEndpoints.detail"
    ),  # requester
    "GET /api/v1/calendar/schedules": Expect(
        401, 200, 200, 200, "TestScheduleEndpoints.list"
    ),  # requester
    "GET /api/v1/calendar/windows": Expect(
        401, 200, 200, 200, "TestWindowEndpoints.list"
    ),  # nobody
    "GET /api/v1/calendar/windows/{window_id}": Expect(
        401, 200, 200, 200, "TestWindowEndpoints.detail"
    ),  # nobody
    "GET /api/v1/me": Expect(401, 200, 200, 200, "TestAccountEndpoints.me"),  # nobody
    "GET /api/v1/reports/releases/{ref}/documents/{name}.{format}": Expect(
        401, 404, 404, 200, "TestReportEndpoints.release document"
    ),
    "GET /api/v1/reports/quarters/{quarter}/analysis.{format}": Expect(
        401, 200, 200, 200, "TestReportEndpoints.quarterly analysis"
    ),
    "GET /api/v1/reports/periods/{period}/statistics.{format}": Expect(
        401, 200, 200, 200, "TestReportEndpoints.release statistics"
    ),
    "GET /api/v1/reports/kpi": Expect(401, 200, 200, 200, "TestReportEndpoints.kpi"),  # nobody
    "GET /api/v1/reports/waits": Expect(401, 200, 200, 200, "TestReportEndpoints.waits"),  # nobody
    "GET /api/v1/reports/kpi/releases": Expect(
        401, 200, 200, 200, "TestReportEndpoints.releases"
    ),  # nobody
    "GET /api/v1/teams": Expect(401, 200, 200, 200, "TestTeamEndpoints.list"),  # nobody
    "GET /api/v1/teams/{code}": Expect(401, 200, 200, 200, "TestTeamEndpoints.show"),  # nobody
    "POST /api/v1/teams": Expect(401, 403, 403, 201, "TestTeamEndpoints.create"),  # admin
    "PATCH /api/v1/teams/{code}": Expect(401, 403, 403, 200, "TestTeamEndpoints.change"),  # admin
    "POST /api/v1/teams/{code}/members": Expect(
        401, 403, 403, 200, "TestTeamEndpoints.add member"
    ),  # admin
    "DELETE /api/v1/teams/{code}/members/{username}": Expect(
        401, 403, 403, 200, "TestTeamEndpoints.remove member"
    ),  # admin
    "GET /api/v1/notifications/outbox": Expect(
        401, 403, 403, 200, "TestNotificationEndpoints.outbox"
    ),  # admin
    "GET /api/v1/notifications/subscriptions": Expect(
        401, 200, 200, 200, "TestNotificationEndpoints.subscriptions"
    ),  # requester
    "GET /api/v1/processes": Expect(401, 200, 200, 200, "TestProcessEndpoints.list"),  # nobody
    "GET /api/v1/processes/schema": Expect(
        401, 200, 200, 200, "TestProcessEndpoints.schema"
    ),  # nobody
    "GET /api/v1/processes/{name}": Expect(
        401, 200, 200, 200, "TestProcessEndpoints.show"
    ),  # nobody
    "GET /api/v1/releases": Expect(401, 200, 200, 200, "TestReleaseEndpoints.list"),  # requester
    "GET /api/v1/releases/{ref}": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.detail"
    ),  # requester
    "GET /api/v1/releases/{ref}/approvals": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.approvals"
    ),  # requester
    "GET /api/v1/releases/{ref}/audit": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.audit"
    ),  # requester
    "GET /api/v1/releases/{ref}/checklist": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.checklist"
    ),  # requester
    "GET /api/v1/releases/{ref}/comments": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.comments"
    ),  # requester
    "GET /api/v1/releases/{ref}/deliverables": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.deliverables"
    ),  # requester
    "GET /api/v1/releases/{ref}/deliverables/{key}/versions/{number}/file": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.download"
    ),  # requester
    "GET /api/v1/releases/{ref}/readiness": Expect(
        401, 404, 404, 200, "TestReadinessMatrix.get readiness"
    ),  # shop_crew
    "PATCH /api/v1/calendar/freezes/{freeze_id}": Expect(
        401, 403, 403, 200, "TestFreezeEndpoints.change"
    ),  # planner
    "PATCH /api/v1/calendar/windows/{window_id}": Expect(
        401, 403, 403, 200, "TestWindowEndpoints.change"
    ),  # planner
    "PATCH /api/v1/notifications/subscriptions/{subscription_id}": Expect(
        401, 404, 404, 200, "TestNotificationEndpoints.change"
    ),  # requester
    "PATCH /api/v1/releases/{ref}": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.edit"
    ),  # requester
    "POST /api/v1/approvals/delegations": Expect(
        401, 403, 403, 201, "TestApprovalEndpoints.delegate"
    ),  # owner
    "POST /api/v1/cab/meetings": Expect(401, 403, 201, 201, "TestCabApi.schedule"),  # manager
    "POST /api/v1/cab/meetings/{meeting_id}/agenda": Expect(
        401, 403, 200, 200, "TestCabApi.refresh agenda"
    ),  # manager
    "POST /api/v1/cab/meetings/{meeting_id}/agenda/{ref}/decision": Expect(
        401, 404, 403, 200, "TestCabApi.decide"
    ),  # chair
    "POST /api/v1/cab/meetings/{meeting_id}/attendance": Expect(
        401, 403, 200, 200, "TestCabApi.attendance"
    ),  # chair
    "POST /api/v1/cab/meetings/{meeting_id}/cancel": Expect(
        401, 403, 200, 409, "TestCabApi.cancel"
    ),  # manager
    "POST /api/v1/cab/meetings/{meeting_id}/close": Expect(
        401, 403, 200, 409, "TestCabApi.close"
    ),  # chair
    "POST /api/v1/calendar/freezes": Expect(
        401, 403, 403, 201, "TestFreezeEndpoints.create"
    ),  # planner
    "POST /api/v1/calendar/freezes/{freeze_id}/lift": Expect(
        401, 403, 403, 204, "TestFreezeEndpoints.lift"
    ),  # planner
    "POST /api/v1/calendar/freezes/{freeze_id}/overrides": Expect(
        401, 404, 404, 201, "TestFreezeEndpoints.override"
    ),  # crew
    "POST /api/v1/calendar/plans/occurrences/{occurrence_id}/restore": Expect(
        401, 403, 403, 200, "TestPlanEndpoints.restore"
    ),  # planner
    "POST /api/v1/calendar/plans/occurrences/{occurrence_id}/strike": Expect(
        401, 403, 403, 200, "TestPlanEndpoints.strike"
    ),  # planner
    "POST /api/v1/calendar/plans/{year}/generate": Expect(
        401, 403, 403, 200, "TestPlanEndpoints.generate"
    ),  # planner
    "POST /api/v1/calendar/plans/{year}/publish": Expect(
        401, 403, 403, 200, "TestPlanEndpoints.publish"
    ),  # planner
    "POST /api/v1/calendar/releases/{ref}/schedule/cancel": Expect(
        401, 404, 404, 200, "TestScheduleEndpoints.cancel"
    ),  # crew
    "POST /api/v1/calendar/windows": Expect(
        401, 403, 403, 201, "TestWindowEndpoints.create"
    ),  # planner
    "POST /api/v1/notifications/outbox/{uuid}/retry": Expect(
        401, 403, 403, 200, "TestNotificationEndpoints.retry"
    ),  # admin
    "POST /api/v1/notifications/subscriptions": Expect(
        401, 201, 201, 201, "TestNotificationEndpoints.subscribe"
    ),  # requester
    "POST /api/v1/processes/validate": Expect(
        401, 200, 200, 200, "TestProcessEndpoints.validate"
    ),  # nobody
    "POST /api/v1/releases": Expect(401, 403, 403, 201, "TestReleaseEndpoints.create"),  # requester
    "POST /api/v1/releases/{ref}/actions/{action}": Expect(
        401, 404, 404, 200, "TestReleaseEndpoints.act"
    ),  # crew
    "POST /api/v1/releases/{ref}/approvals": Expect(
        401, 404, 404, 201, "TestReleaseEndpoints.approve"
    ),  # owner
    "POST /api/v1/releases/{ref}/checklist": Expect(
        401, 404, 404, 201, "TestReleaseEndpoints.tick"
    ),  # crew
    "POST /api/v1/releases/{ref}/comments": Expect(
        401, 404, 404, 201, "TestReleaseEndpoints.comment"
    ),  # requester
    "POST /api/v1/releases/{ref}/deliverables": Expect(
        401, 404, 404, 201, "TestReleaseEndpoints.upload"
    ),  # requester
    "POST /api/v1/releases/{ref}/readiness": Expect(
        401, 404, 404, 201, "TestReadinessMatrix.record readiness"
    ),  # shop_crew
    "POST /api/v1/releases/{ref}/rejections": Expect(
        401, 404, 404, 201, "TestReleaseEndpoints.reject"
    ),  # owner
    "PUT /api/v1/calendar/releases/{ref}/schedule": Expect(
        401, 404, 404, 200, "TestScheduleEndpoints.schedule"
    ),  # crew
    # what a release touches in the CMDB (tests/api/test_scope.py)
    "GET /api/v1/releases/{ref}/items": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.items"
    ),  # requester
    "PUT /api/v1/releases/{ref}/items": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.set items"
    ),  # requester
    "POST /api/v1/releases/{ref}/items": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.add items"
    ),  # requester
    "DELETE /api/v1/releases/{ref}/items": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.remove items"
    ),  # requester
    "GET /api/v1/releases/{ref}/teams": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.teams"
    ),  # requester
    "PUT /api/v1/releases/{ref}/teams": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.set teams"
    ),  # requester
    "POST /api/v1/releases/{ref}/teams": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.add teams"
    ),  # requester
    "DELETE /api/v1/releases/{ref}/teams": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.remove teams"
    ),  # requester
    "GET /api/v1/releases/{ref}/impact": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.impact"
    ),  # requester
    "POST /api/v1/releases/{ref}/impact/review": Expect(
        401, 404, 404, 201, "TestScopeEndpoints.review impact"
    ),  # crew
    "GET /api/v1/releases/{ref}/deployed-versions": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.versions"
    ),  # requester
    "POST /api/v1/releases/{ref}/deployed-versions": Expect(
        401, 404, 404, 200, "TestScopeEndpoints.record versions"
    ),  # crew
}

PAGES: dict[str, Page] = {
    "GET calendar-feeds:application": Page(401, 404, 404, 200, kwargs=lambda w: {"code": "crm"}),
    "GET calendar-feeds:team": Page(401, 404, 404, 404, kwargs=lambda w: {"team": "crm"}),
    "GET calendar-feeds:personal": Page(
        200, 200, 200, 200, kwargs=lambda w: {"secret": w.feed_secret}
    ),
    "GET notifications:outbox": Page(302, 403, 403, 200, who="admin"),
    "POST notifications:outbox": Page(302, 403, 403, 200, who="admin"),
    "POST notifications:outbox-retry": Page(
        302, 403, 403, 302, who="admin", kwargs=lambda w: {"uuid": w.message.uuid}
    ),
    "GET notifications:subscriptions": Page(302, 200, 200, 200),
    "POST notifications:subscriptions": Page(
        302,
        302,
        302,
        302,
        everyone=True,
        data=lambda w: {
            "event": "release.closed",
            "channel": "email",
            "target": "rita@example.com",
        },
    ),
    "POST notifications:subscription-delete": Page(
        302, 302, 302, 302, kwargs=lambda w: {"subscription_id": w.subscription.pk}
    ),
    "GET web:home": Page(302, 200, 200, 200),
    "GET web:login": Page(200, 302, 302, 302),
    "POST web:login": Page(
        302, 302, 302, 302, data=lambda w: {"username": "rita", "password": "a-Long-pass-123"}
    ),
    "POST web:logout": Page(302, 302, 302, 302),
    "POST web:language": Page(
        302, 302, 302, 302, data=lambda w: {"language": "en", "next": "/releases/"}
    ),
    "GET web:ci-list": Page(302, 200, 200, 200),
    "GET web:ci-search": Page(302, 200, 200, 200),
    "GET web:ci-detail": Page(302, 200, 200, 200, kwargs=lambda w: {"ci_id": w.ci.pk}),
    "GET web:profile": Page(302, 200, 200, 200),
    "GET web:change-list": Page(302, 200, 200, 200),
    "GET web:change-search": Page(302, 200, 200, 200),
    "GET web:change-detail": Page(302, 200, 200, 200, kwargs=change),
    "POST web:change-decide": Page(
        302,
        302,
        302,
        302,
        who="member",
        kwargs=change,
        data=lambda w: {"decision": "approve", "note": "Go."},
        writes=True,
    ),
    "POST web:change-review": Page(
        302,
        302,
        302,
        302,
        who="admin",
        kwargs=lambda w: {"number": w.reviewable.number},
        data=lambda w: {"release": w.carrier.number, "achieved": "yes"},
        writes=True,
    ),
    "POST web:release-changes": Page(
        302,
        404,
        404,
        302,
        who="crew",
        kwargs=release,
        data=lambda w: {"how": "add", "change": w.change.number, "revision": w.release.revision},
        writes=True,
    ),
    "GET web:reports": Page(302, 200, 200, 200),
    "GET web:report-export": Page(
        302,
        200,
        200,
        200,
        kwargs=lambda w: {"fmt": "csv"},
        data=lambda w: {"period": "2026Q3", "figure": "closed"},
    ),
    "GET web:period-document": Page(
        302,
        200,
        200,
        200,
        kwargs=lambda w: {"name": "release_statistics", "period": "2026Q3", "fmt": "md"},
    ),
    "GET web:release-document": Page(
        302,
        404,
        404,
        200,
        kwargs=lambda w: {"number": w.release.number, "name": "release_report", "fmt": "md"},
    ),
    "GET web:report-releases": Page(
        302, 200, 200, 200, data=lambda w: {"period": "2026Q3", "figure": "closed"}
    ),
    "POST web:token-create": Page(
        302, 200, 200, 200, everyone=True, data=lambda w: {"name": "cli", "days": 30}
    ),
    "POST web:time-zone": Page(
        302, 302, 302, 302, everyone=True, data=lambda w: {"time_zone": "Europe/London"}
    ),
    "POST web:token-revoke": Page(302, 302, 302, 302, kwargs=lambda w: {"prefix": w.token.prefix}),
    "GET web:release-list": Page(302, 200, 200, 200),
    "POST web:release-list": Page(302, 200, 200, 200),
    "GET web:release-create": Page(302, 403, 200, 200),
    "POST web:release-create": Page(
        302,
        403,
        200,
        302,
        data=lambda w: {
            "application": w.app.pk,
            "title": "Patch CRM",
            "kind": "upgrade",
            "method": "planned",
            "release_class": "standard",
            "risk": "medium",
        },
    ),
    "GET web:release-detail": Page(302, 404, 404, 200, kwargs=release),
    "POST web:release-items": Page(
        302,
        404,
        404,
        302,
        who="crew",
        kwargs=release,
        data=lambda w: {"how": "add", "item": w.ci.name, "revision": w.release.revision},
    ),
    "POST web:release-teams": Page(
        302,
        404,
        404,
        302,
        who="crew",
        kwargs=release,
        data=lambda w: {"how": "add", "team": w.team.code, "revision": w.release.revision},
    ),
    "POST web:release-review-impact": Page(302, 404, 404, 302, who="crew", kwargs=release),
    "POST web:release-record-versions": Page(302, 404, 404, 302, who="crew", kwargs=release),
    "GET web:release-edit": Page(302, 404, 404, 200, who="crew", kwargs=release),
    "POST web:release-edit": Page(
        302,
        404,
        404,
        302,
        who="crew",
        kwargs=release,
        data=lambda w: {
            "revision": w.release.revision,
            "title": w.release.title,
            "risk": "high",
            "release_manager": w.release.release_manager_id or "",
        },
    ),
    "POST web:release-detail": Page(302, 404, 404, 200, kwargs=release),
    "POST web:release-action": Page(
        302,
        404,
        404,
        302,
        who="crew",
        kwargs=lambda w: {**release(w), "action": "cancel"},
        data=lambda w: {"revision": w.release.revision, "reason": "No longer needed."},
    ),
    "POST web:release-tick": Page(
        302, 404, 404, 302, who="crew", kwargs=release, data=lambda w: {"item": "plan_reviewed"}
    ),
    "POST web:release-approve": Page(
        302,
        404,
        404,
        302,
        who="owner",
        kwargs=lambda w: {"number": w.in_review.number},
        data=lambda w: {"step": "release_owner", "decision": "approve"},
    ),
    "POST web:release-deliverable": Page(
        302,
        404,
        404,
        302,
        kwargs=release,
        data=lambda w: {"key": "release_plan", "url": "https://example.com/plan"},
    ),
    "POST web:release-comment": Page(
        302, 404, 404, 302, kwargs=release, data=lambda w: {"body": "Looks good."}
    ),
    "GET web:release-readiness": Page(302, 404, 404, 200, who="crew", kwargs=release),
    "POST web:release-readiness": Page(302, 404, 404, 409, who="crew", kwargs=release),
    "GET web:approvals": Page(302, 200, 200, 200, who="owner"),
    "POST web:approvals": Page(302, 200, 200, 200, who="owner"),
    "POST web:approvals-approve": Page(
        302,
        302,
        302,
        302,
        who="owner",
        kwargs=lambda w: {"number": w.in_review.number},
        data=lambda w: {"step": "release_owner"},
    ),
    "POST web:approvals-reject": Page(
        302,
        302,
        302,
        302,
        who="owner",
        kwargs=lambda w: {"number": w.in_review.number},
        data=lambda w: {"step": "release_owner", "comment": "Not yet."},
    ),
    "GET web:delegations": Page(302, 200, 200, 200, who="owner"),
    "POST web:delegations": Page(
        302,
        302,
        302,
        302,
        everyone=True,
        who="owner",
        data=lambda w: {
            "delegate": "carl",
            "starts": timezone.localdate().isoformat(),
            "ends": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "reason": "Away.",
        },
    ),
    "POST web:delegation-revoke": Page(
        302, 302, 302, 302, who="owner", kwargs=lambda w: {"delegation_id": w.delegation.pk}
    ),
    "GET web:calendar": Page(302, 200, 200, 200),
    "POST web:calendar": Page(302, 200, 200, 200, who="admin"),
    "POST web:calendar-schedule": Page(302, 404, 404, 302, who="crew", kwargs=release),
    "POST web:calendar-unschedule": Page(
        302, 404, 404, 302, who="crew", kwargs=release, data=lambda w: {"reason": "Moved."}
    ),
    "GET web:cab-list": Page(302, 200, 200, 200, who="member"),
    "POST web:cab-list": Page(
        302, 403, 400, 400, who="admin", data=lambda w: {"title": "Extra CAB"}
    ),
    "GET web:cab-detail": Page(302, 404, 200, 200, who="member", kwargs=meeting),
    "POST web:cab-detail": Page(302, 404, 200, 200, who="member", kwargs=meeting),
    "POST web:cab-attendance": Page(
        302, 404, 302, 302, who="admin", kwargs=meeting, any_application=True
    ),
    "POST web:cab-agenda": Page(302, 404, 302, 302, who="admin", kwargs=meeting),
    "POST web:cab-decide": Page(302, 404, 302, 302, who="admin", kwargs=meeting),
    "POST web:cab-close": Page(
        302, 404, 302, 302, who="admin", kwargs=meeting, data=lambda w: {"minutes": "Done."}
    ),
    "POST web:cab-cancel": Page(
        302,
        404,
        302,
        302,
        who="admin",
        kwargs=meeting,
        data=lambda w: {"reason": "No items."},
        any_application=True,
    ),
    "GET web:cab-minutes": Page(302, 404, 200, 200, who="member", kwargs=meeting),
    "POST web:cab-minutes": Page(302, 404, 200, 200, who="member", kwargs=meeting),
}


# ------------------------------------------------------------------ the URL map


def api_operations() -> set[str]:
    """Every operation of the OpenAPI document, as "METHOD /path"."""
    return {
        f"{method.upper()} {path}"
        for path, methods in openapi()["paths"].items()
        for method in methods
    }


def _patterns(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Callable[..., Any]]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or ""), pattern.callback


def accepted_methods(view: Callable[..., Any]) -> set[str]:
    """GET and POST, or those of them a view's `require_http_methods` (or class) allows."""
    methods = {"GET", "POST"}
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return {
            m
            for m in methods
            if m.lower() in view_class.http_method_names and hasattr(view_class, m.lower())
        }
    wrapper: Any = view
    while wrapper is not None:
        for cell in getattr(wrapper, "__closure__", None) or ():
            allowed = cell.cell_contents
            if (
                isinstance(allowed, list | tuple)
                and allowed
                and all(isinstance(m, str) and m.isupper() for m in allowed)
            ):
                methods &= set(allowed)
        wrapper = getattr(wrapper, "__wrapped__", None)
    return methods


def page_endpoints() -> dict[str, str]:
    """ "METHOD namespace:name" -> route, for every page and each method it accepts."""
    found = {}
    for route, name, view in _patterns(get_resolver().url_patterns):
        if route.startswith(NOT_PAGES):
            continue
        assert name, f"the page {route} has no name: name it, so the matrix can list it"
        for method in sorted(accepted_methods(view)):
            found[f"{method} {name}"] = route
    return found


def test_every_endpoint_has_an_entry() -> None:
    for operation in sorted(api_operations() - set(API)):
        pytest.fail(
            f"new endpoint {operation} has no entry in the permission matrix: add one to API "
            f"in {__name__.replace('.', '/')}.py"
        )
    for page, route in sorted(page_endpoints().items()):
        assert page in PAGES, (
            f"new endpoint {page} (/{route}) has no entry in the permission matrix: add one "
            f"to PAGES in {__name__.replace('.', '/')}.py"
        )


def test_every_entry_is_an_endpoint() -> None:
    gone = (set(API) - api_operations()) | (set(PAGES) - set(page_endpoints()))
    assert not gone, f"the permission matrix lists endpoints that no longer exist: {sorted(gone)}"


def test_every_recipe_sends_its_operation() -> None:
    for operation, expect in API.items():
        endpoint = recipe(expect.recipe)
        assert f"{endpoint.method} {endpoint.path}" == operation, (operation, expect.recipe)


# ------------------------------------------------------------------ running the entries


def recipe(name: str) -> Endpoint:
    matrix_name, endpoint_name = name.split(".")
    matrix, _world = MATRICES[matrix_name]
    [endpoint] = [e for e in matrix.endpoints if e.name == endpoint_name]
    return endpoint


USERS = {"no_role": "nobody", "other_app": "outsider"}


KINDS: dict[str, Callable[[], Any]] = {
    kind.__name__: kind for kind in {w for _m, w in MATRICES.values()} | {PageWorld}
}


def kind_of(expect: Expect) -> str:
    return MATRICES[expect.recipe.split(".")[0]][1].__name__


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The entries grouped by the world they run in, so that each world is made once."""
    if metafunc.function.__name__ == "test_api_entry":
        cases = sorted((kind_of(expect), operation) for operation, expect in API.items())
        name = "operation"
    elif metafunc.function.__name__ == "test_page_entry":
        cases = [("PageWorld", page) for page in sorted(PAGES)]
        name = "page"
    else:
        return
    metafunc.parametrize(
        ("world_kind", name),
        cases,
        indirect=["world_kind"],
        scope="module",
        ids=[entry for _kind, entry in cases],
    )


class Shared:
    """A world made once, in a transaction rolled back when the next kind is made. Each
    entry runs in a savepoint rolled back after it; what its requests made the world
    remember (lazily made objects, its clients' tokens) is forgotten with it."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.state = dict(vars(world))

    def forget(self) -> None:
        vars(self.world).clear()
        vars(self.world).update(self.state)
        self.world._clients = {}


@pytest.fixture(scope="module")
def world_kind(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: Any
) -> Iterator[Shared]:
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield Shared(with_callers(KINDS[request.param]()))
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(world_kind: Shared, db: None) -> Iterator[Any]:
    """The shared world of the entry's kind, inside this test's savepoint."""
    yield world_kind.world
    world_kind.forget()


def test_api_entry(operation: str, world: Any) -> None:
    expect = API[operation]
    endpoint = recipe(expect.recipe)
    answers = {}
    for caller in CALLERS:
        who = {"right": endpoint.permitted, **USERS}.get(caller, caller)
        answers[caller] = endpoint.send(world, world.client(who)).status_code
    assert answers == {c: getattr(expect, c) for c in CALLERS}, operation


def test_page_entry(page: str, world: PageWorld) -> None:
    entry = PAGES[page]
    method, name = page.split(" ")
    url = reverse(name, kwargs=entry.kwargs(world))
    answers = {}
    for caller in CALLERS:
        who = {"right": entry.who, **USERS}.get(caller, caller)
        data = entry.data(world) if entry.data else {}
        events = AuditEvent.objects.count()
        client = world.login(who)
        response = client.get(url, data) if method == "GET" else client.post(url, data)
        answers[caller] = response.status_code
        refused = caller == "anonymous" or not (
            entry.everyone or caller == "right" or (caller == "other_app" and entry.any_application)
        )
        if refused or response.status_code >= 400:
            assert AuditEvent.objects.count() == events, (page, caller, "wrote an audit event")
        elif entry.writes:
            assert AuditEvent.objects.count() > events, (page, "wrote no audit event")
    assert answers == {c: getattr(entry, c) for c in CALLERS}, page
