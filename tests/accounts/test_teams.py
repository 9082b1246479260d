"""Teams and departments: the services, and the data migration that turned users'
department text into departments."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from relman.accounts import teams
from relman.accounts.models import Team, TeamMembership
from relman.audit.models import AuditEvent
from relman.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests import factories

pytestmark = pytest.mark.django_db
migration = importlib.import_module("relman.accounts.migrations.0004_departments_from_text")


def test_the_migration_makes_each_department_text_a_department_without_loss(presets):
    User = get_user_model()
    app = factories.application("crm", process="tfdl")
    made = {
        "zhou": "租赁业务部",
        "wu": "租赁业务部",
        "xu": "人力资源部",
        "ann": "IT Operations",
        "bob": "",
    }
    for username, department in made.items():
        User.objects.create(username=username, department=department)  # as before teams
    factories.user("zhoujie-head", "department_approver", app=app)
    User.objects.filter(username="zhoujie-head").update(department="租赁业务部")
    TeamMembership.objects.all().delete()
    Team.objects.all().delete()

    migration.departments_from_text(apps, None)
    migration.departments_from_text(apps, None)  # run twice: nothing doubles

    assert sorted(Team.objects.values_list("name", "kind")) == [
        ("IT Operations", "department"),
        ("人力资源部", "department"),
        ("租赁业务部", "department"),
    ]
    assert Team.objects.get(name="IT Operations").code == "it-operations"
    assert Team.objects.get(name="租赁业务部").code == "租赁业务部"
    for user in User.objects.exclude(department=""):
        assert list(user.teams.values_list("name", flat=True)) == [user.department]
    assert not User.objects.get(username="bob").teams.exists()
    heads = TeamMembership.objects.filter(is_head=True).values_list("user__username", flat=True)
    assert list(heads) == ["zhoujie-head"]  # the department approver heads it


def test_a_department_code_is_made_free():
    taken = {"sales", "sales-2"}
    assert teams.department_code("Sales", taken.__contains__) == "sales-3"
    assert teams.department_code("!!!", taken.__contains__) == "department"


def test_administrators_make_departments_and_sub_departments_audited():
    admin = factories.admin()
    it = teams.create_team(admin, code="it", name="Information management")
    ops = teams.create_team(
        admin, code="it-ops", name="IT operations", kind="sub_department", parent="it"
    )
    assert ops.parent == it
    assert AuditEvent.objects.filter(action="team.created").count() == 2
    head = factories.user("hana")
    teams.add_member(admin, "it-ops", "hana", head=True)
    assert TeamMembership.objects.get(team=ops, user=head).is_head
    teams.add_member(admin, "it-ops", head, head=False)
    assert not TeamMembership.objects.get(team=ops, user=head).is_head
    teams.remove_member(admin, ops, "hana")
    assert not ops.members.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="team.member").values_list("action", flat=True)
    )
    assert actions == ["team.member_added", "team.member_changed", "team.member_removed"]


def test_only_administrators_change_teams():
    factories.team("it", "IT")
    someone = factories.user("sam", "release_manager")
    with pytest.raises(PermissionDenied, match="administrators"):
        teams.create_team(someone, code="x", name="X")
    with pytest.raises(PermissionDenied):
        teams.add_member(someone, "it", someone, head=True)  # no making oneself a head
    assert not TeamMembership.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": "", "name": "X"}, "code", "A code of 1 to 40"),
        ({"code": "a b", "name": "X"}, "code", "A code of 1 to 40"),
        ({"code": "it", "name": "Other"}, "code", "already a team 'it'"),
        ({"code": "y", "name": "IT"}, "name", "already a team named 'IT'"),
        ({"code": "y", "name": ""}, "name", "A name of 1 to 150"),
        ({"code": "y", "name": "Y", "kind": "guild"}, "kind", "not a kind of team"),
        ({"code": "y", "name": "Y", "kind": "sub_department"}, "parent", "needs the department"),
        ({"code": "y", "name": "Y", "parent": "nope"}, "parent", "no team 'nope'"),
    ],
)
def test_bad_team_fields_are_refused_by_name(fields, field, message):
    factories.team("it", "IT")
    with pytest.raises(ValidationFailed) as refused:
        teams.create_team(None, **fields)
    assert field in refused.value.errors and message in " ".join(refused.value.errors[field])
    assert Team.objects.count() == 1


def test_a_team_cannot_be_part_of_its_own_parts():
    teams.create_team(None, code="it", name="IT")
    teams.create_team(None, code="ops", name="Ops", kind="sub_department", parent="it")
    with pytest.raises(ValidationFailed, match="part of itself"):
        teams.update_team(None, "it", parent="ops")
    with pytest.raises(ValidationFailed, match="Unknown field"):
        teams.update_team(None, "it", code="new")
    with pytest.raises(NotFound):
        teams.update_team(None, "nope", name="N")
    assert teams.update_team(None, "it", name="Information").name == "Information"


def test_a_user_created_with_a_department_joins_it():
    factories.team("sales", "Sales")
    rita = factories.user("rita", department="Sales")
    nora = factories.user("nora", department="New department")
    assert [t.code for t in teams.teams_of(rita)] == ["sales"]
    assert [t.name for t in teams.teams_of(nora)] == ["New department"]
