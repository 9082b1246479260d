"""The owner teams of the services a release affects hear that it went into deployment."""

from __future__ import annotations

import pytest

from relman.notifications.models import Message
from relman.notifications.rendering import render
from relman.releases import services as releases
from tests import factories

pytestmark = pytest.mark.django_db


def test_owner_teams_of_affected_services_hear_of_the_deployment(presets):
    app = factories.application("crm", process="tfdl")
    crew = factories.crew(app, "carl")
    requester = factories.user("rita", "requester", app=app, email="rita@example.test")
    head = factories.user("hana", email="hana@example.test")
    member = factories.user("max", email="max@example.test")
    dba = factories.user("dora", email="dora@example.test")
    web = factories.team("web", head=head, members=[member])
    factories.team("dba", members=[dba])  # owns the database, which is no service
    db = factories.ci("crm-db", "database", owner_team=factories.team("dba"))
    app_server = factories.ci("crm-app", "server")
    factories.depends(app_server, db, "runs_on")
    factories.depends(factories.ci("crm-portal", "service", owner_team=web), app_server)
    release = factories.release(requester, app, version_number="5.2")
    releases.change_items(requester, release, "set", ["crm-db"])

    factories.walk_to(crew, release, "deployment")

    deployed = Message.objects.filter(release=release, event="release.deployed")
    assert {m.target for m in deployed} >= {"hana@example.test", "max@example.test"}
    assert "dora@example.test" not in {m.target for m in deployed}
    assert "rita@example.test" in {m.target for m in deployed}
    told = render(deployed.get(target="hana@example.test"))
    assert ("Services affected", "crm-portal") in told.facts


def test_a_release_touching_nothing_tells_no_team(presets):
    app = factories.application("crm", process="tfdl")
    crew = factories.crew(app, "carl")
    requester = factories.user("rita", "requester", app=app, email="rita@example.test")
    factories.team("web", head=factories.user("hana", email="hana@example.test"))
    release = factories.release(requester, app)
    factories.walk_to(crew, release, "deployment")
    targets = set(
        Message.objects.filter(release=release, event="release.deployed").values_list(
            "target", flat=True
        )
    )
    assert "hana@example.test" not in targets and "rita@example.test" in targets
