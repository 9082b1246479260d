"""Teams and departments through the API: everyone signed in reads them, administrators
change them and their members; bad fields are refused by name and nothing is written."""

from __future__ import annotations

from functools import cached_property

import pytest

from relman.accounts.models import Team, TeamMembership
from tests import factories
from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call

pytestmark = pytest.mark.django_db
TEAMS = f"{API}/teams"
REFUSED = (("nobody", 403), ("outsider", 403), ("crew", 403))


class TeamWorld(World):
    """The matrix's world, plus an administrator and the department it with a sub-department
    ops, whose head is hana."""

    def __init__(self) -> None:
        super().__init__()
        self.users["admin"] = factories.admin("ada")
        self.head = factories.user("hana")
        self.it = factories.team("it", "Information management", head=self.head)
        self.ops = Team.objects.create(
            code="ops", name="IT operations", kind="sub_department", parent=self.it
        )

    @cached_property
    def member(self):
        return factories.user("mo")


@pytest.fixture
def world(db) -> TeamWorld:
    return TeamWorld()


def listed(response, world) -> None:
    rows = {t["code"]: t for t in response.json()}
    assert rows["ops"]["parent"] == "it" and rows["ops"]["kind"] == "sub_department"
    assert rows["it"]["members"] == [{"username": "hana", "name": "hana", "head": True}]


class TestTeamEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint("list", "GET", TEAMS, "nobody", check=listed),
        Endpoint(
            "show",
            "GET",
            f"{TEAMS}/{{code}}",
            "nobody",
            params=lambda w: {"code": "it"},
            check=lambda r, w: r.json()["name"] == "Information management",
        ),
        Endpoint(
            "create",
            "POST",
            TEAMS,
            "admin",
            status=201,
            refused=REFUSED,
            body=lambda w: {"code": "dba", "name": "Database team", "kind": "team", "parent": "it"},
            check=lambda r, w: r.json()["parent"] == "it",
        ),
        Endpoint(
            "change",
            "PATCH",
            f"{TEAMS}/{{code}}",
            "admin",
            refused=REFUSED,
            params=lambda w: {"code": "ops"},
            body=lambda w: {"name": "Operations", "parent": None, "kind": "department"},
            check=lambda r, w: (r.json()["name"], r.json()["parent"]) == ("Operations", None),
        ),
        Endpoint(
            "add member",
            "POST",
            f"{TEAMS}/{{code}}/members",
            "admin",
            refused=REFUSED,
            params=lambda w: {"code": "ops"},
            setup=lambda w: w.member,
            body=lambda w: {"user": "mo", "head": True},
            check=lambda r, w: (
                r.json()["members"] == [{"username": "mo", "name": "mo", "head": True}]
            ),
        ),
        Endpoint(
            "remove member",
            "DELETE",
            f"{TEAMS}/{{code}}/members/{{username}}",
            "admin",
            refused=REFUSED,
            params=lambda w: {"code": "it", "username": "hana"},
            check=lambda r, w: r.json()["members"] == [],
        ),
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "a b", "name": "X"}, "code"),
        ({"code": "it", "name": "X"}, "code"),
        ({"code": "x", "name": "IT operations"}, "name"),
        ({"code": "x", "name": "X", "kind": "sub_department"}, "parent"),
        ({"code": "x", "name": "X", "parent": "nope"}, "parent"),
        ({"code": "x", "name": "X", "kind": "guild"}, "kind"),
        ({"code": "x\x00", "name": "X"}, "code"),
    ],
)
def test_a_bad_team_is_refused_naming_the_field(world, body, field):
    response = call(world.client("admin"), "POST", TEAMS, body=body)
    assert response.status_code == 400, response.content
    assert field in str(response.json()), response.json()
    assert Team.objects.count() == 2


def test_a_team_cannot_become_part_of_its_own_part(world):
    response = call(
        world.client("admin"),
        "PATCH",
        f"{TEAMS}/{{code}}",
        params={"code": "it"},
        body={"parent": "ops"},
    )
    assert response.status_code == 400
    assert "part of itself" in response.json()["errors"]["parent"][0]
    assert Team.objects.get(code="it").parent is None


def test_removing_someone_who_is_no_member_names_them(world):
    response = call(
        world.client("admin"),
        "DELETE",
        f"{TEAMS}/{{code}}/members/{{username}}",
        params={"code": "ops", "username": "hana"},
    )
    assert response.status_code == 400 and "hana is not a member" in response.json()["detail"]
    assert TeamMembership.objects.count() == 1


def test_the_list_takes_the_same_queries_for_more_teams(world, django_assert_max_num_queries):
    client = world.client("nobody")
    call(client, "GET", TEAMS)
    for n in range(10):
        factories.team(f"t{n}", head=factories.user(f"h{n}"), members=[factories.user(f"m{n}")])
    with django_assert_max_num_queries(6):
        assert len(call(client, "GET", TEAMS).json()) == 12
