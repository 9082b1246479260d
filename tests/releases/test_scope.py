"""What a release touches: its items and departments, their audit, the impact and its review."""

from __future__ import annotations

import pytest

from relman.audit.models import AuditEvent
from relman.core.errors import Conflict, PermissionDenied, ValidationFailed
from relman.releases import services
from relman.releases.models import ImpactReview, ReleaseItem
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cmdb():
    """db <- app (runs on) <- portal (a service, depends on app); app part_of crm-suite;
    printer stands alone. Owners: dba owns db, web owns portal."""
    dba, web = factories.team("dba"), factories.team("web")
    items = {
        "db": factories.ci("db-01", "database", owner_team=dba),
        "app": factories.ci("app-01", "server"),
        "portal": factories.ci("portal", "service", owner_team=web),
        "suite": factories.ci("crm-suite", "service"),
        "printer": factories.ci("printer", "device"),
    }
    factories.depends(items["app"], items["db"], "runs_on")
    factories.depends(items["portal"], items["app"])
    factories.depends(items["app"], items["suite"], "part_of")
    return items


def events(release, verb):
    return list(AuditEvent.objects.filter(release=release, action=verb).order_by("seq"))


def test_adding_and_removing_items_bumps_the_revision_and_is_audited(release, requester, cmdb):
    revision = release.revision
    release = services.change_items(
        requester, release, "add", ["db-01", str(cmdb["printer"].pk)], revision=revision
    )
    assert release.revision == revision + 1
    assert set(release.items.values_list("ci__name", flat=True)) == {"db-01", "printer"}
    release = services.change_items(requester, release, "remove", ["printer"])
    release = services.change_items(requester, release, "set", ["database:db-01", "app-01"])
    assert set(release.items.values_list("ci__name", flat=True)) == {"db-01", "app-01"}
    found = events(release, "release.items_changed")
    assert [(e.before["items"], e.after["items"]) for e in found] == [
        ([], ["db-01", "printer"]),
        (["db-01", "printer"], ["db-01"]),
        (["db-01"], ["app-01", "db-01"]),
    ]
    assert release.revision == revision + 3
    # Nothing changes: no revision, no event.
    services.change_items(requester, release, "add", ["app-01"])
    assert len(events(release, "release.items_changed")) == 3


def test_items_are_refused_with_words(release, requester, auditor, crew, cmdb):
    with pytest.raises(ValidationFailed) as caught:
        services.change_items(requester, release, "add", ["nowhere"])
    assert caught.value.errors == {"items": ["There is no configuration item 'nowhere'."]}
    factories.ci("db-01", "server")  # the same name for another type
    with pytest.raises(ValidationFailed) as caught:
        services.change_items(requester, release, "add", ["db-01"])
    assert "database:db-01, server:db-01" in caught.value.errors["items"][0]
    with pytest.raises(ValidationFailed, match="does not touch: printer"):
        services.change_items(requester, release, "remove", ["printer"])
    with pytest.raises(Conflict):
        services.change_items(requester, release, "add", ["printer"], revision=99)
    with pytest.raises(PermissionDenied):
        services.change_items(auditor, release, "add", ["printer"])
    services.cancel(crew, release, reason="Not needed", revision=release.revision)
    with pytest.raises(PermissionDenied, match="closed"):
        services.change_items(requester, release, "add", ["printer"])
    assert not ReleaseItem.objects.filter(release=release).exists()
    assert not events(release, "release.items_changed")


def test_departments_are_added_and_removed_by_hand(release, requester):
    factories.team("ops")
    factories.team("finance")
    release = services.change_teams(requester, release, "add", ["ops", "finance"])
    release = services.change_teams(requester, release, "remove", ["ops"])
    assert list(release.added_teams.values_list("team__code", flat=True)) == ["finance"]
    found = events(release, "release.teams_changed")
    assert [(e.before["teams"], e.after["teams"]) for e in found] == [
        ([], ["finance", "ops"]),
        (["finance", "ops"], ["finance"]),
    ]
    with pytest.raises(ValidationFailed) as caught:
        services.change_teams(requester, release, "add", ["nope"])
    assert caught.value.errors == {"teams": ["There is no department 'nope'."]}


def test_impact_lists_every_affected_item_with_its_path_and_owner(
    release, requester, cmdb, django_assert_num_queries
):
    services.change_items(requester, release, "set", ["db-01"])
    release.refresh_from_db()
    # the items, the walk, the departments (the requester's, those added by hand, the
    # teams), the live review
    with django_assert_num_queries(6):
        found = services.release_impact(requester, release)
    assert [(r.name, r.owner_team) for r in found.touched] == [("db-01", "DBA")]
    rows = {r.name: r for r in found.affected}
    assert rows["portal"].path == ("db-01", "app-01", "portal")
    assert rows["portal"].via == ("runs_on", "depends_on")
    assert rows["portal"].is_service and rows["portal"].owner_team == "WEB"
    assert rows["crm-suite"].via == ("runs_on", "^part_of")
    assert "printer" not in rows
    assert found.owner_teams == ["DBA", "WEB"]


def test_the_impact_costs_the_same_queries_for_more_items(
    release, requester, cmdb, django_assert_num_queries
):
    services.change_items(requester, release, "set", ["db-01"])
    for n in range(10):
        extra = factories.ci(f"node-{n}", "server")
        factories.depends(extra, cmdb["db"], "runs_on")
        factories.depends(factories.ci(f"leaf-{n}", "service"), extra)
    services.change_items(requester, release, "add", ["printer", "app-01"])
    with django_assert_num_queries(6):
        found = services.release_impact(requester, release)
    assert len(found.affected) == 22  # 10 nodes, 10 leaves, portal, crm-suite (app-01 is touched)


def test_an_impact_review_is_made_by_someone_else_and_voided_by_new_items(
    release, requester, crew, cmdb
):
    services.change_items(requester, release, "set", ["db-01"])
    with pytest.raises(PermissionDenied, match="someone else"):
        services.review_impact(requester, release)
    review = services.review_impact(crew, release, note="Checked with the DBAs")
    assert review.touched == [cmdb["db"].pk]
    assert set(review.affected) == {cmdb[n].pk for n in ("app", "portal", "suite")}
    event = events(release, "release.impact_reviewed")[0]
    assert event.after["touched"] == ["db-01"] and event.reason == "Checked with the DBAs"
    services.change_items(requester, release, "add", ["printer"])
    review.refresh_from_db()
    assert review.voided is not None
    assert "touches changed" in review.void_reason
    assert not ImpactReview.objects.filter(release=release, voided__isnull=True).exists()


def test_an_auditor_may_not_review_the_impact(release, auditor):
    with pytest.raises(PermissionDenied):
        services.review_impact(auditor, release)
