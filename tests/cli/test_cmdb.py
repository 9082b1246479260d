"""`relman ci ...`: the CMDB from the command line, over real HTTP against a live server."""

from __future__ import annotations

import json

import pytest

from relman.accounts.services import create_token
from relman.cli.output import ExitCode
from relman.cmdb.models import ConfigurationItem, Relationship
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def logged_in(run, live_server, fast_passwords):
    for code in ("database", "application", "service"):
        factories.ci_type(code)
    factories.ci_type(
        "server", schema={"type": "object", "properties": {"cpu": {"type": "integer"}}}
    )
    factories.team("dba")
    _token, secret = create_token(None, factories.librarian(), name="cli")
    result = run("login", live_server.url, "--token-stdin", input=f"{secret}\n")
    assert result.exit_code == 0, result.output


def test_add_relate_list_show_and_impact(run, logged_in):
    assert run("ci", "add", "database", "crm-db", "--team", "dba").exit_code == 0
    result = run("ci", "add", "application", "crm-app", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "crm-app"
    assert run("ci", "add", "service", "crm").exit_code == 0
    result = run("ci", "relate", "crm-app", "runs_on", "crm-db")
    assert result.exit_code == 0, result.output
    assert "crm-app runs_on crm-db" in result.stdout
    assert run("ci", "relate", "crm-app", "part_of", "crm").exit_code == 0

    result = run("ci", "list", "--team", "dba")
    assert "crm-db" in result.stdout and "crm-app" not in result.stdout
    result = run("ci", "show", "crm-db")
    assert result.exit_code == 0, result.output
    assert "runs_on" in result.stdout and "crm-app" in result.stdout

    result = run("ci", "impact", "crm-db", "--depth", "3")
    assert result.exit_code == 0, result.output
    assert "crm-db → crm-app → crm" in result.stdout
    assert "2 item(s) affected, 1 service(s)." in result.stdout

    result = run("ci", "add", "server", "web-1", "--attr", "cpu=x")
    assert result.exit_code == ExitCode.REFUSED
    assert "attributes.cpu: 'x' is not of type 'integer'" in result.stderr
    assert run("ci", "show", "ghost").exit_code == ExitCode.REFUSED


def test_import_dry_run_import_and_export(run, logged_in, tmp_path):
    path = tmp_path / "servers.csv"
    path.write_text("type,name,owner_team\nserver,s1,dba\nserver,s2,xyz\n")
    result = run("ci", "import", str(path))
    assert result.exit_code == ExitCode.REFUSED
    assert "line 3, owner_team: There is no team 'xyz'." in result.stderr
    path.write_text("type,name,owner_team\nserver,s1,dba\nserver,s2,dba\n")
    result = run("ci", "import", str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "items: 2 created" in result.stdout
    assert not ConfigurationItem.objects.exists()
    assert run("ci", "import", str(path)).exit_code == 0
    assert ConfigurationItem.objects.count() == 2
    relationships = tmp_path / "relationships.csv"
    relationships.write_text(
        "source_type,source,kind,target_type,target\nserver,s1,connects_to,server,s2\n"
    )
    result = run("ci", "import", str(relationships), "--what", "relationships")
    assert result.exit_code == 0, result.output
    assert Relationship.objects.count() == 1

    result = run("ci", "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "server,s2,,dba,,,active,{}" in result.stdout
    target = tmp_path / "cmdb.json"
    result = run("ci", "export", "--format", "json", "--what", "all", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert len(json.loads(target.read_text())["relationships"]) == 1
    result = run("ci", "export", "--format", "csv", "--what", "all")
    assert result.exit_code == ExitCode.REFUSED
