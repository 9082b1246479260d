"""The CMDB pages: a CI's page shows its relationships as a graph, its impact with paths,
and its version history with the releases that put each version there."""

from __future__ import annotations

import pytest
from django.utils import timezone

from relman.cmdb.models import ConfigurationItem, DeployedVersion, Relationship
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def stack(app):
    types = {c: factories.ci_type(c) for c in ("database", "application", "service")}
    db = ConfigurationItem.objects.create(type=types["database"], name="crm-db-prod")
    crm = ConfigurationItem.objects.create(
        type=types["application"], name="crm-prod", application=app
    )
    svc = ConfigurationItem.objects.create(type=types["service"], name="crm-service")
    Relationship.objects.create(source=crm, kind="depends_on", target=db)
    Relationship.objects.create(source=crm, kind="part_of", target=svc)
    return db, crm, svc


def test_a_database_page_lists_what_stands_on_it_with_paths(
    client, stack, django_assert_max_num_queries
):
    db, _crm, _svc = stack
    client.force_login(factories.user("nina"))
    with django_assert_max_num_queries(12):
        page = client.get(f"/cmdb/{db.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<svg class="ci-graph"' in html and "crm-prod" in html
    impact = html.split('id="impact"')[1].split("</section>")[0]
    assert "crm-service" in impact
    # read left to right from the changed database: crm-prod depends on it, and is part of
    # the service
    assert "← depends on ←" in impact and "→ is part of →" in impact


def test_version_history_links_the_release(client, stack, app):
    _db, crm, _svc = stack
    requester = factories.user("rita", "requester", app=app)
    release = factories.release(requester, app)
    old = DeployedVersion.objects.create(
        ci=crm, application=app, version="1.0", installed=timezone.now(), removed=timezone.now()
    )
    DeployedVersion.objects.create(
        ci=crm,
        application=app,
        version="1.1",
        release=release,
        installed=timezone.now(),
        previous=old,
    )
    client.force_login(requester)
    html = client.get(f"/cmdb/{crm.pk}/").content.decode()
    versions = html.split('id="versions"')[1]
    assert f"/releases/{release.number}/" in versions and "1.1" in versions and "1.0" in versions


def test_an_unknown_item_is_404(client):
    client.force_login(factories.user("nina"))
    assert client.get("/cmdb/999999/").status_code == 404


def test_the_browser_filters_and_pages_by_name(client, stack, django_assert_max_num_queries):
    _db, _crm, _svc = stack
    server = factories.ci_type("server")
    ConfigurationItem.objects.bulk_create(
        ConfigurationItem(type=server, name=f"srv-{n:03d}") for n in range(60)
    )
    client.force_login(factories.user("nina"))
    with django_assert_max_num_queries(10):
        first = client.get("/cmdb/?type=server").content.decode()
    assert "srv-049" in first and "srv-050" not in first and "crm-db-prod" not in first
    link = first.split('class="btn" href="?')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(f"/cmdb/?{link}").content.decode()
    assert "srv-050" in second and "srv-059" in second and "srv-049" not in second
    forged = client.get("/cmdb/?after=forged").content.decode()
    assert "That page link is not valid" in forged


def test_the_release_page_shows_what_it_touches_and_the_impact(client, stack, app):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from relman.releases.models import ReleaseItem

    db, _crm, _svc = stack
    requester = factories.user("rita", "requester", app=app)
    release = factories.release(requester, app)
    client.force_login(requester)
    ReleaseItem.objects.create(release=release, ci=db, added_by=requester)
    with CaptureQueriesContext(connection) as one:
        html = client.get(f"/releases/{release.number}/").content.decode()
    panel = html.split('id="cmdb"')[1].split("</section>")[0]
    assert "crm-db-prod" in panel and "crm-service" in panel
    more = ConfigurationItem.objects.bulk_create(
        ConfigurationItem(type=db.type, name=f"db-{n}") for n in range(5)
    )
    ReleaseItem.objects.bulk_create(
        ReleaseItem(release=release, ci=ci, added_by=requester) for ci in more
    )
    with CaptureQueriesContext(connection) as six:
        client.get(f"/releases/{release.number}/")
    assert len(six) == len(one)


def test_the_release_page_adds_and_removes_items_and_confirms_the_impact(client, stack, app):
    from relman.audit.models import AuditEvent
    from relman.releases.models import ImpactReview, ReleaseItem

    db, _crm, _svc = stack
    requester = factories.user("rita", "requester", app=app)
    manager = factories.user("max", "release_manager", app=app)
    release = factories.release(requester, app)
    client.force_login(requester)
    options = client.get("/cmdb/search/?q=crm-d").content.decode()
    assert 'value="database:crm-db-prod"' in options
    added = client.post(
        f"/releases/{release.number}/items/",
        {"how": "add", "item": "database:crm-db-prod", "revision": release.revision},
        follow=True,
    )
    assert "now touches database:crm-db-prod" in added.content.decode()
    assert ReleaseItem.objects.filter(release=release, ci=db).exists()
    assert AuditEvent.objects.filter(action="release.items_changed").exists()

    unknown = client.post(
        f"/releases/{release.number}/items/",
        {"how": "add", "item": "nothing-like-it", "revision": release.revision + 1},
        follow=True,
    )
    assert "nothing-like-it" in unknown.content.decode()  # the refusal names it

    own = client.post(f"/releases/{release.number}/impact/review/", follow=True)
    assert not ImpactReview.objects.exists()
    assert "someone else must review its impact" in own.content.decode()
    client.force_login(manager)
    client.post(f"/releases/{release.number}/impact/review/")
    assert ImpactReview.objects.get(release=release).reviewer == manager

    release.refresh_from_db()
    client.post(
        f"/releases/{release.number}/items/",
        {"how": "remove", "item": "database:crm-db-prod", "revision": release.revision},
    )
    assert not ReleaseItem.objects.filter(release=release).exists()
    assert ImpactReview.objects.get(release=release).voided is not None


def test_recording_the_versions_from_the_page(client, stack, app):
    from relman.releases.models import ReleaseItem

    _db, crm, _svc = stack
    requester = factories.user("rita", "requester", app=app)
    release = factories.release(requester, app, version_number="2.4.0")
    ReleaseItem.objects.create(release=release, ci=crm, added_by=requester)
    client.force_login(requester)
    done = client.post(f"/releases/{release.number}/deployed/", follow=True)
    assert "on 1 item(s)" in done.content.decode()
    assert DeployedVersion.objects.get(ci=crm, removed__isnull=True).version == "2.4.0"


def test_the_release_page_lists_the_departments_involved_and_adds_one_by_hand(client, stack, app):
    from relman.releases.models import ReleaseItem, ReleaseTeam

    db, _crm, _svc = stack
    requester = factories.user("rita", "requester", app=app, department="Sales")
    factories.team("legal", "Legal")
    db.owner_team = factories.team("dba", "Database team")
    db.save()
    release = factories.release(requester, app)
    ReleaseItem.objects.create(release=release, ci=db, added_by=requester)
    client.force_login(requester)
    page = client.get(f"/releases/{release.number}/").content.decode()
    involved = page.split("Departments involved")[1].split("Add a department")[0]
    assert "Sales" in involved and "Database team" in involved and "Legal" not in involved
    assert '<option value="legal">Legal</option>' in page

    added = client.post(
        f"/releases/{release.number}/teams/",
        {"how": "add", "team": "legal", "revision": release.revision},
        follow=True,
    )
    assert "now involves legal" in added.content.decode()
    assert "added by hand" in added.content.decode()
    assert ReleaseTeam.objects.filter(release=release, team__code="legal").exists()

    stale = client.post(
        f"/releases/{release.number}/teams/",
        {"how": "remove", "team": "legal", "revision": release.revision},
        follow=True,
    )
    assert ReleaseTeam.objects.filter(release=release).exists()  # an old revision: refused
    assert "changed" in stale.content.decode()
