"""`relman impact` and `relman release items|teams|review-impact|record-versions`, over
real HTTP against a live server."""

from __future__ import annotations

import json

import pytest

from relman.accounts.services import create_token
from relman.cmdb.models import DeployedVersion
from relman.releases.models import ImpactReview
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(run, live_server, app):
    manager = factories.user("rm", "release_manager", app=app)
    requester = factories.user("rita", "requester", app=app)
    web = factories.team("web")
    db = factories.ci("crm-db", "database")
    server = factories.ci("crm-app", "server")
    factories.depends(server, db, "runs_on")
    factories.depends(factories.ci("crm-portal", "service", owner_team=web), server)
    release = factories.release(requester, app, version_number="5.2")
    _token, secret = create_token(None, manager, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0
    return release


def test_items_impact_review_and_versions_from_the_command_line(run, world):
    number = world.number
    added = run("release", "items", number, "add", "crm-db", "crm-app")
    assert added.exit_code == 0, added.output
    assert "crm-app" in added.stdout and "crm-db" in added.stdout
    removed = run("release", "items", number, "remove", "crm-app", "--json")
    assert [row["name"] for row in json.loads(removed.stdout)] == ["crm-db"]

    shown = run("impact", number)
    assert shown.exit_code == 0, shown.output
    portal = next(line for line in shown.stdout.splitlines() if "crm-portal" in line)
    assert "WEB" in portal and "crm-db → crm-app → crm-portal" in portal
    assert "has not been reviewed" in shown.stderr
    assert "Departments involved: WEB." in shown.stderr

    assert run("release", "review-impact", number, "--note", "ok").exit_code == 0
    assert ImpactReview.objects.filter(release=world, voided__isnull=True).exists()
    assert "Reviewed by rm." in run("impact", number).stderr

    recorded = run("release", "record-versions", number)
    assert recorded.exit_code == 0, recorded.output
    assert f"crm-db: crm 5.2 ({number})" in recorded.stdout
    assert DeployedVersion.objects.get(release=world).version == "5.2"

    unknown = run("release", "items", number, "add", "nowhere")
    assert unknown.exit_code != 0
    assert "There is no configuration item 'nowhere'." in unknown.stderr


def test_departments_from_the_command_line(run, world):
    factories.team("ops")
    result = run("release", "teams", world.number, "add", "ops")
    assert result.exit_code == 0, result.output
    assert "ops" in result.stdout
    assert run("release", "teams", world.number, "remove", "ops").exit_code == 0
    assert "No department" in run("release", "teams", world.number).stderr
