"""The reports API: any signed-in user asks, over the releases they may see; bad input is
refused naming the field; a figure's releases come one keyset page at a time."""

from __future__ import annotations

import pytest

from relman.releases.models import Release
from tests.api.matrix import API, Endpoint, PermissionMatrix, call

pytestmark = pytest.mark.django_db
KPI = f"{API}/reports/kpi"


def close_release(world) -> None:
    """World's crm release, closed as succeeded in 2026Q3."""
    from tests.reports.conftest import at

    Release.objects.filter(pk=world.release.pk).update(
        status="closed", outcome="succeeded", actual_end=at("2026-08-01T10:00")
    )


def counts_it(response, world) -> None:
    assert response.json()["outcomes"]["succeeded"] == 1


def hides_it(response, world) -> None:
    assert response.json()["outcomes"]["succeeded"] == 0


def lists_it(response, world) -> None:
    assert [r["number"] for r in response.json()["items"]] == [world.release.number]


def lists_nothing(response, world) -> None:
    assert response.json()["items"] == []


def shows_it(response, world) -> None:
    assert world.release.number in response.content.decode()


def lacks_it(response, world) -> None:
    assert world.release.number not in response.content.decode()


def counts_one(response, world) -> None:
    assert "| Releases closed | 1 |" in response.content.decode()


def counts_none(response, world) -> None:
    assert "| Releases closed | 0 |" in response.content.decode()


def cancel_release(world) -> None:
    """World's crm release, cancelled from its first stage, its end put in 2026Q3."""
    from relman.releases import services as releases
    from tests.reports.conftest import at

    release = Release.objects.get(pk=world.release.pk)  # as it is now (set up once per caller)
    if release.status != "closed":
        releases.cancel(world.users["crew"], release, revision=release.revision, reason="No.")
    Release.objects.filter(pk=world.release.pk).update(actual_end=at("2026-08-01T10:00"))


def waited_in_its_stage(response, world) -> None:
    stages = response.json()["stages"]
    assert [(s["key"], s["count"]) for s in stages] == [("release_plan", 1)]


def waited_nowhere(response, world) -> None:
    assert response.json() == {"stages": [], "approvers": []}


class TestReportEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "waits",
            "GET",
            f"{API}/reports/waits",
            "requester",
            refused=(("nobody", 200), ("outsider", 200)),
            query={"period": "2026Q3"},
            setup=cancel_release,
            check=waited_in_its_stage,
            hides=waited_nowhere,
        ),
        Endpoint(
            "kpi",
            "GET",
            KPI,
            "requester",
            refused=(("nobody", 200), ("outsider", 200)),
            query={"period": "2026Q3"},
            setup=close_release,
            check=counts_it,
            hides=hides_it,
        ),
        Endpoint(
            "releases",
            "GET",
            f"{KPI}/releases",
            "requester",
            refused=(("nobody", 200), ("outsider", 200)),
            query={"period": "2026Q3", "figure": "succeeded"},
            setup=close_release,
            check=lists_it,
            hides=lists_nothing,
        ),
        Endpoint(
            "release document",
            "GET",
            f"{API}/reports/releases/{{ref}}/documents/{{name}}.{{format}}",
            "requester",
            refused=(("nobody", 404), ("outsider", 404)),
            params=lambda w: {"ref": w.release.number, "name": "release_report", "format": "md"},
            check=shows_it,
        ),
        Endpoint(
            "quarterly analysis",
            "GET",
            f"{API}/reports/quarters/{{quarter}}/analysis.{{format}}",
            "requester",
            refused=(("nobody", 200), ("outsider", 200)),
            params=lambda w: {"quarter": "2026Q3", "format": "md"},
            setup=close_release,
            check=counts_one,
            hides=counts_none,
        ),
        Endpoint(
            "release statistics",
            "GET",
            f"{API}/reports/periods/{{period}}/statistics.{{format}}",
            "requester",
            refused=(("nobody", 200), ("outsider", 200)),
            params=lambda w: {"period": "2026Q3", "format": "md"},
            setup=close_release,
            check=shows_it,
            hides=lacks_it,
        ),
    )


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        (KPI, {"period": "2026Q9"}, "period"),
        (KPI, {"period": "last quarter"}, "period"),
        (KPI, {"from": "2026-07-01"}, "to"),
        (KPI, {"from": "yesterday", "to": "2026-07-01"}, "from"),
        (KPI, {"class": "huge"}, "class"),
        (KPI, {"application": "nope"}, "application"),
        (KPI, {"team": "nope"}, "team"),
        (f"{KPI}/releases", {"period": "2026Q3"}, "figure"),
        (f"{KPI}/releases", {"period": "2026Q3", "figure": "happy"}, "figure"),
        (f"{KPI}/releases", {"period": "2026Q3", "figure": "closed", "cursor": "x"}, "cursor"),
    ],
)
def test_bad_input_is_refused_naming_the_field(world, path, query, field):
    response = call(world.client("requester"), "GET", path, query=query)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    if field == "period":
        assert "2026Q3" in response.json()["detail"] and "2026-07" in response.json()["detail"]
