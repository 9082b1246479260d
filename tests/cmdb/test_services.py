"""Applications are created and re-pointed through services, audited, and refused clearly."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from relman.audit.models import AuditEvent
from relman.cli.main import app as cli
from relman.cmdb.models import Application
from relman.cmdb.services import create_application, set_process
from relman.core.errors import PermissionDenied, ValidationFailed
from tests import factories

pytestmark = pytest.mark.django_db


def test_create_application_is_audited(presets, admin):
    app = create_application(admin, code="WMS", name="Warehouse", process="feh")
    assert app.code == "wms"
    event = AuditEvent.objects.get(action="application.created")
    assert event.actor_name == admin.username
    assert event.after == {"code": "wms", "name": "Warehouse", "process": "feh"}


def test_create_application_names_each_bad_field(presets):
    factories.application("crm")
    with pytest.raises(ValidationFailed) as refused:
        create_application(None, code="crm", name="", process="nope")
    assert set(refused.value.errors) == {"code", "name", "process"}
    assert "taken" in refused.value.errors["code"][0]
    assert "feh, hhlc, mof, tfdl" in refused.value.errors["process"][0]
    assert not AuditEvent.objects.filter(action="application.created").exists()


def test_only_administrators_manage_applications(presets):
    requester = factories.user("rita", "requester")
    with pytest.raises(PermissionDenied):
        create_application(requester, code="x", name="X", process="mof")


def test_set_process_keeps_open_releases_on_theirs(presets):
    app = factories.application("crm", process="tfdl")
    requester = factories.user("rita", "requester", app=app)
    release = factories.release(requester, app)
    set_process(None, "crm", "mof")
    release.refresh_from_db()
    assert release.process.name == "tfdl"
    assert Application.objects.get(code="crm").process_name == "mof"
    event = AuditEvent.objects.get(action="application.changed")
    assert (event.before, event.after) == ({"process_name": "tfdl"}, {"process_name": "mof"})


def test_cli_app_commands(presets):
    runner = CliRunner()
    result = runner.invoke(cli, ["app", "create", "crm", "Customer CRM", "--process", "nope"])
    assert result.exit_code == 1
    assert "no process named 'nope'" in result.output
    result = runner.invoke(cli, ["app", "create", "crm", "Customer CRM", "--process", "tfdl"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["app", "list"])
    assert "crm" in result.output and "tfdl" in result.output
