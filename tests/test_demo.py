"""The demo data: every process, flow outcome and role shows, the history is sound, and a
second load changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from relman.accounts.models import Role
from relman.audit.models import AuditEvent
from relman.audit.services import verify_chain
from relman.cmdb.models import Application
from relman.core.errors import Conflict
from relman.demo import DemoSummary, load_demo
from relman.processes import engine
from relman.releases import services
from relman.releases.choices import Outcome, Status
from relman.releases.models import Approval, Release
from tests import factories

PRESETS = {"mof", "hhlc", "feh", "tfdl"}


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker, tmp_path_factory) -> DemoSummary:
    """One load for the whole class (it takes seconds), undone when the class is done."""
    files = tmp_path_factory.mktemp("demo-files")
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=files, RELMAN_PROCESS_DIRS=[]),
        transaction.atomic(),
    ):
        yield load_demo(releases_per_app=3)
        transaction.set_rollback(True)


class TestLoadedDemo:
    def test_every_preset_outcome_and_role_shows(self, db, demo):
        assert not demo.skipped
        assert demo.releases == Release.objects.count() == 3 * 8
        assert {r.process.name for r in Release.objects.select_related("process")} == PRESETS
        outcomes = set(
            Release.objects.filter(status=Status.CLOSED).values_list("outcome", flat=True)
        )
        assert outcomes == set(Outcome.values)
        assert Release.objects.filter(status=Status.IN_PROGRESS).exists()
        # Every role, built in or declared by a preset, is held by someone.
        assert not Role.objects.filter(assignments__isnull=True).exists()

    def test_the_history_is_sound(self, db, demo):
        assert verify_chain().ok
        now = timezone.now()
        times = list(AuditEvent.objects.order_by("seq").values_list("created", flat=True))
        assert times == sorted(times), "events were written in time order"
        assert times[-1] <= now
        assert not Release.objects.filter(created__lt=now - timedelta(days=380)).exists()
        # Segregation of duties: nobody approved a release they requested.
        assert not Approval.objects.filter(approver=F("release__requester")).exists()

    def test_succeeded_releases_passed_every_stage_of_their_flow(self, db, demo):
        succeeded = Release.objects.filter(outcome=Outcome.SUCCEEDED)
        assert succeeded.exists()
        for release in succeeded:
            _process, variant = services.flow_of(release)
            keys = [s.key for s in engine.active_stages(variant, services.snapshot(release))]
            moves = {
                (action, before["stage"])
                for action, before in AuditEvent.objects.filter(
                    release=release, action__in=["release.advance", "release.close"]
                ).values_list("action", "before")
            }
            expected = {("release.advance", k) for k in keys[:-1]} | {("release.close", keys[-1])}
            assert expected <= moves, release.number
            assert {stage for _a, stage in moves} <= set(keys), "a skipped stage was entered"

    def test_the_cmdb_is_realistic_and_owned_by_the_demo_departments(self, db, demo):
        from relman.accounts.models import Team, TeamMembership
        from relman.cmdb import impact
        from relman.cmdb.models import ConfigurationItem, Relationship

        items = ConfigurationItem.objects.count()
        assert 200 <= items <= 600 and Relationship.objects.count() > items
        assert not ConfigurationItem.objects.filter(owner_team__isnull=True).exists()
        assert AuditEvent.objects.filter(action="cmdb.imported").count() == 1
        # every owner team is a department some demo user belongs to
        owners = Team.objects.filter(configuration_items__isnull=False).distinct()
        assert all(t.memberships.exists() for t in owners), [t.name for t in owners]
        # the department approvers head their departments; seed 002's sub-department
        heads = TeamMembership.objects.filter(is_head=True).values_list("user__username", flat=True)
        assert {"zhoujie", "xumei", "xutao", "mia", "oscar"} <= set(heads)
        sub = Team.objects.get(name="信息管理部 发布管理组")
        assert (sub.kind, sub.parent.name) == ("sub_department", "信息管理部")
        # the shared production database cluster affects the applications and services above
        cluster = ConfigurationItem.objects.get(name="oracle-rac-prod")
        found = {a.name for a in impact.affected([cluster.pk])}
        assert {"crm-db-prod", "crm-prod", "crm-service", "dw-prod"} <= found

    def test_deployed_versions_follow_the_succeeded_releases(self, db, demo):
        from relman.cmdb.models import DeployedVersion

        succeeded = Release.objects.filter(outcome=Outcome.SUCCEEDED).exclude(version_number="")
        assert succeeded.exists()
        for release in succeeded:
            put = DeployedVersion.objects.get(
                release=release, ci__name=f"{release.application.code}-prod"
            )
            assert put.version == release.version_number
        # the version now current on each production application is the last succeeded one's
        for app in Application.objects.filter(code__in={r.application.code for r in succeeded}):
            current = DeployedVersion.objects.get(ci__name=f"{app.code}-prod", removed__isnull=True)
            last = succeeded.filter(application=app).order_by("-actual_end", "-pk").first()
            assert current.release == last, app.code
        assert not DeployedVersion.objects.filter(
            release__outcome__in=[Outcome.FAILED, Outcome.CANCELLED], removed__isnull=True
        ).exists()

    def test_a_second_load_is_skipped_and_adds_nothing(self, db, demo):
        counts = (
            Release.objects.count(),
            AuditEvent.objects.count(),
            get_user_model().objects.count(),
        )
        again = load_demo(releases_per_app=3)
        assert again.skipped
        assert "already loaded" in str(again)
        assert counts == (
            Release.objects.count(),
            AuditEvent.objects.count(),
            get_user_model().objects.count(),
        )

    def test_the_summary_names_the_users_and_their_password_once(self, db, demo):
        text = str(demo)
        assert demo.password and text.count(demo.password) == 1
        assert "alice" in text and "24 releases" in text
        assert demo.password not in repr(demo)
        assert get_user_model().objects.get(username="bob").check_password(demo.password)


def test_a_taken_username_stops_the_load_before_it_writes(db):
    factories.user("alice")
    with pytest.raises(Conflict, match="alice"):
        load_demo(releases_per_app=1)
    assert not Application.objects.exists()
    assert not Release.objects.exists()
