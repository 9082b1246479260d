"""`relman release edit`: a release's details change from the command line through the API's
PATCH (the same service as the page), audited, and a stale revision is refused (exit 4)."""

from __future__ import annotations

import pytest

from relman.accounts.services import create_token
from relman.audit.models import AuditEvent
from relman.releases import services
from tests import factories


@pytest.mark.django_db(transaction=True)
def test_the_backout_plan_changes_and_a_stale_edit_is_refused(app, run, live_server):
    rita = factories.user("rita", "requester", app=app)
    release = factories.release(rita, app)
    _token, secret = create_token(None, rita, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0

    result = run("release", "edit", release.number, "--backout-plan", "Redeploy 1.4.")
    assert result.exit_code == 0, result.output
    assert f"Updated {release.number}" in result.output and "backout_plan" in result.output
    release.refresh_from_db()
    assert release.backout_plan == "Redeploy 1.4."
    event = AuditEvent.objects.filter(action="release.updated").latest("id")
    assert event.actor_id == rita.pk and event.after == {"backout_plan": "Redeploy 1.4."}

    seen = release.revision
    services.update_release(rita, release.number, title="Changed meanwhile")
    stale = run(
        "release", "edit", release.number, "--backout-plan", "Mine.", "--revision", str(seen)
    )
    assert stale.exit_code == 4
    assert "was changed by someone else" in stale.output
    release.refresh_from_db()
    assert release.backout_plan == "Redeploy 1.4."

    nothing = run("release", "edit", release.number)
    assert nothing.exit_code != 0 and "Nothing to change" in nothing.output
