"""Where releases wait: the time in each stage from the audit log's moves, and each
approver's time to decide, checked against a clock the test moves by known hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.utils import timezone

from relman.approvals.services import decisions
from relman.releases import services as releases
from relman.reports import waits
from relman.reports.filters import KpiQuery
from tests import factories

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def wait(self, hours: float) -> None:
        self.at += timedelta(hours=hours)


def test_stage_and_approver_waits_add_up_to_the_hours_the_clock_moved(presets, fast_passwords):
    clock = Clock(datetime(2026, 8, 3, 9, 0, tzinfo=timezone.get_default_timezone()))
    with mock.patch("django.utils.timezone.now", new=clock):
        app = factories.application("crm", process="tfdl")
        requester = factories.user("rita", "requester", app=app, department="Sales")
        crew = factories.crew(app)
        head = factories.user("hana", "department_approver", app=app, department="Sales")
        admin = factories.admin()
        release = factories.release(requester, app)
        expected = {}
        for stage, hours in (("release_plan", 5.0), ("backout_plan", 30.0)):
            clock.wait(hours)
            expected[stage] = hours
            factories.meet_gate(crew, release)
            release.refresh_from_db()
            release = releases.advance(crew, release, revision=release.revision)
        assert release.stage == "plan_review"
        clock.wait(3)
        decisions.approve(head, release, step="department_approver")
        clock.wait(9)
        release.refresh_from_db()
        releases.cancel(crew, release, revision=release.revision, reason="Postponed.")
        expected["plan_review"] = 12.0

    question = KpiQuery(period="2026Q3")
    stages = {w.key: w for w in waits.stage_waits(admin, question, "en")}
    assert {k: w.median for k, w in stages.items()} == expected
    assert [w.key for w in waits.stage_waits(admin, question, "en")] == [
        "backout_plan",
        "plan_review",
        "release_plan",
    ]  # slowest first
    assert stages["backout_plan"].label.endswith("(tfdl)")
    approvers = waits.approver_waits(admin, question)
    assert [(w.key, w.count, w.median) for w in approvers] == [("hana", 1, 3.0)]
    # another quarter holds none of it; the requester sees their own release's figures
    assert waits.stage_waits(admin, KpiQuery(period="2026Q2"), "en") == []
    assert len(waits.stage_waits(requester, question, "en")) == 3


def test_the_dashboard_shows_where_releases_wait_in_constant_queries(
    presets, fast_passwords, client
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app = factories.application("crm", process="tfdl")
    requester = factories.user("rita", "requester", app=app)
    crew = factories.crew(app)
    client.force_login(factories.admin())
    quarter = KpiQuery().the_period.key

    def cancelled(n: int) -> None:
        for i in range(n):
            release = factories.walk_to(crew, factories.release(requester, app), "backout_plan")
            releases.cancel(crew, release, revision=release.revision, reason=f"No {i}.")

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as seen:
            page = client.get("/reports/", {"period": quarter}).content.decode()
        return len(seen), page.split('id="stage-waits"')[1].split("</table>")[0]

    cancelled(2)
    few, table = queries()
    assert "Release plan (tfdl)" in table and "Backout plan (tfdl)" in table
    cancelled(4)
    many, _table = queries()
    assert many == few
