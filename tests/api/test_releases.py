"""The release endpoints: permissions, error format, list filters and paging, files, audit."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relman.audit.models import AuditEvent
from relman.releases import services
from relman.releases.filters import encode_cursor
from relman.releases.models import Release
from tests import factories
from tests.api.matrix import API, Endpoint, PermissionMatrix, World, call

pytestmark = pytest.mark.django_db

RELEASES = f"{API}/releases"
ONE = f"{RELEASES}/{{ref}}"


def ref(world: World) -> dict[str, str]:
    return {"ref": world.release.number}


def review_ref(world: World) -> dict[str, str]:
    return {"ref": world.in_review.number}


def numbers(response) -> list[str]:
    return [row["number"] for row in response.json()["items"]]


def lists_the_release(response, world: World) -> None:
    assert world.release.number in numbers(response)


def hides_the_release(response, world: World) -> None:
    assert world.release.number not in numbers(response)


def detail_of(response, world: World) -> None:
    body = response.json()
    assert body["number"] == world.release.number
    assert body["stage"] == "release_plan"
    assert {a["action"] for a in body["actions"]} == {"advance", "cancel"}


def created(response, world: World) -> None:
    body = response.json()
    assert body["title"] == "Patch CRM"
    assert Release.objects.filter(
        number=body["number"], requester=world.users["requester"]
    ).exists()
    assert AuditEvent.objects.filter(action="release.created", channel="api").exists()


def renamed(response, world: World) -> None:
    assert response.json()["title"] == "Upgrade CRM, renamed"
    assert response.json()["revision"] == 2


def cancelled(response, world: World) -> None:
    assert (response.json()["status"], response.json()["outcome"]) == ("closed", "cancelled")


def approved(response, world: World) -> None:
    assert response.json()["role"] == "release_owner"
    assert response.json()["approver"] == "olive"


def rejected(response, world: World) -> None:
    assert (response.json()["decision"], response.json()["approver"]) == ("rejected", "olive")
    world.in_review.refresh_from_db()
    assert world.in_review.stage != "plan_review"  # sent back


def ticked(response, world: World) -> None:
    assert response.json()["item"] == "opinions_collected"


def uploaded(response, world: World) -> None:
    body = response.json()
    assert body["sha256"] == hashlib.sha256(b"backout\n").hexdigest()
    assert body["download"].endswith("/deliverables/backout_plan/versions/1/file")


def downloaded(response, world: World) -> None:
    assert b"".join(response.streaming_content) == b"The plan, v1.\n"
    assert response["X-Checksum-SHA256"] == hashlib.sha256(b"The plan, v1.\n").hexdigest()


def commented(response, world: World) -> None:
    assert response.json()["body"] == "Looks good."
    assert response.json()["author"] == "rita"


def audited(response, world: World) -> None:
    actions = [e["action"] for e in response.json()]
    assert actions == ["release.created", "deliverable.added", "comment.added"]


READERS = (("outsider", 404), ("nobody", 404))
WRITERS = (("outsider", 404), ("nobody", 404), ("auditor", 403))


class TestReleaseEndpoints(PermissionMatrix):
    endpoints = (
        Endpoint(
            "list",
            "GET",
            RELEASES,
            "requester",
            refused=(("outsider", 200), ("nobody", 200)),
            setup=lambda w: w.release,
            check=lists_the_release,
            hides=hides_the_release,
        ),
        Endpoint(
            "create",
            "POST",
            RELEASES,
            "requester",
            status=201,
            refused=(("outsider", 403), ("auditor", 403), ("nobody", 403)),
            body=lambda w: {"application": "crm", "title": "Patch CRM", "kind": "patch"},
            check=created,
        ),
        Endpoint("detail", "GET", ONE, "requester", refused=READERS, params=ref, check=detail_of),
        Endpoint(
            "edit",
            "PATCH",
            ONE,
            "requester",
            refused=WRITERS,
            params=ref,
            body=lambda w: {"revision": 1, "title": "Upgrade CRM, renamed"},
            check=renamed,
        ),
        Endpoint(
            "act",
            "POST",
            f"{ONE}/actions/{{action}}",
            "crew",
            refused=(*WRITERS, ("requester", 403)),
            params=lambda w: {"ref": w.release.number, "action": "cancel"},
            body=lambda w: {"revision": 1, "reason": "Not needed any more"},
            check=cancelled,
        ),
        Endpoint("approvals", "GET", f"{ONE}/approvals", "requester", refused=READERS, params=ref),
        Endpoint(
            "approve",
            "POST",
            f"{ONE}/approvals",
            "owner",
            status=201,
            refused=(*WRITERS, ("requester", 403)),
            params=review_ref,
            body=lambda w: {"step": "release_owner", "comment": "Fine by me"},
            check=approved,
        ),
        Endpoint(
            "reject",
            "POST",
            f"{ONE}/rejections",
            "owner",
            status=201,
            refused=(*WRITERS, ("requester", 403)),
            params=review_ref,
            body=lambda w: {"step": "release_owner", "comment": "The plan misses the DB"},
            check=rejected,
        ),
        Endpoint("checklist", "GET", f"{ONE}/checklist", "requester", refused=READERS, params=ref),
        Endpoint(
            "tick",
            "POST",
            f"{ONE}/checklist",
            "crew",
            status=201,
            refused=(*WRITERS, ("requester", 403)),
            params=ref,
            body=lambda w: {"item": "opinions_collected"},
            check=ticked,
        ),
        Endpoint(
            "deliverables", "GET", f"{ONE}/deliverables", "requester", refused=READERS, params=ref
        ),
        Endpoint(
            "upload",
            "POST",
            f"{ONE}/deliverables",
            "requester",
            status=201,
            refused=WRITERS,
            params=ref,
            body=lambda w: {
                "key": "backout_plan",
                "file": factories.upload("backout.txt", b"backout\n"),
            },
            multipart=True,
            check=uploaded,
        ),
        Endpoint(
            "download",
            "GET",
            f"{ONE}/deliverables/{{key}}/versions/{{number}}/file",
            "requester",
            refused=READERS,
            params=lambda w: {"ref": w.release.number, "key": "release_plan", "number": 1},
            check=downloaded,
        ),
        Endpoint("comments", "GET", f"{ONE}/comments", "requester", refused=READERS, params=ref),
        Endpoint(
            "comment",
            "POST",
            f"{ONE}/comments",
            "requester",
            status=201,
            refused=WRITERS,
            params=ref,
            body=lambda w: {"body": "Looks good."},
            check=commented,
        ),
        Endpoint(
            "audit",
            "GET",
            f"{ONE}/audit",
            "requester",
            refused=READERS,
            params=ref,
            check=audited,
        ),
    )


# ---------------------------------------------------------------- errors


def test_a_missing_field_is_a_400_naming_it(world):
    response = call(
        world.client("requester"), "POST", RELEASES, body={"application": "crm", "kind": "patch"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["title"]
    assert body["detail"].startswith("title:")


def test_a_wrong_choice_is_a_400_naming_it(world):
    response = call(
        world.client("requester"),
        "POST",
        RELEASES,
        body={"application": "crm", "title": "x", "kind": "firmware"},
    )
    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_a_domain_validation_error_names_the_field(world):
    response = call(
        world.client("requester"),
        "POST",
        RELEASES,
        body={"application": "nope", "title": "x", "kind": "patch"},
    )
    assert response.status_code == 400
    assert response.json()["errors"]["application"] == ["'nope' does not exist."]


def test_an_unmet_gate_is_a_422_listing_what_is_missing(world):
    response = call(
        world.client("crew"),
        "POST",
        f"{ONE}/actions/{{action}}",
        params={"ref": world.release.number, "action": "advance"},
        body={"revision": 1},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "gate_not_met"
    assert len(body["unmet"]) == 6  # the plan is uploaded; six checklist items are not ticked
    assert all("checklist item" in line for line in body["unmet"])
    assert Release.objects.get(pk=world.release.pk).stage == "release_plan"


def test_a_stale_revision_is_a_409(world):
    client = world.client("requester")
    first = call(client, "PATCH", ONE, params=ref(world), body={"revision": 1, "title": "A"})
    assert first.status_code == 200
    second = call(client, "PATCH", ONE, params=ref(world), body={"revision": 1, "title": "B"})
    assert second.status_code == 409
    assert second.json()["code"] == "conflict"
    assert "Reload it and try again" in second.json()["detail"]


def test_null_clears_a_text_field(world):
    client = world.client("requester")
    body = {"revision": 1, "description": None, "version_number": None, "release_manager": None}
    response = call(client, "PATCH", ONE, params=ref(world), body=body)
    assert response.status_code == 200, response.content
    assert (response.json()["description"], response.json()["version_number"]) == ("", "")


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", ONE, {"revision": 1, "title": "a\x00b"}, "title"),
        ("POST", f"{ONE}/actions/cancel", {"revision": 1, "reason": "a\x00b"}, "reason"),
        ("POST", f"{ONE}/checklist", {"item": "a\x00b"}, "item"),
        ("GET", RELEASES, {"q": "a\x00b"}, "q"),
        ("GET", RELEASES, {"stage": "a\x00b"}, "stage"),
        (
            "POST",
            f"{ONE}/deliverables",
            {"key": "release_plan", "url": "https://x.org/", "note": "a\x00b"},
            "note",
        ),
    ],
)
def test_text_with_a_nul_character_is_a_400_naming_the_field(world, method, path, body, field):
    # PostgreSQL cannot store or compare NUL: it must be refused as input, not fail later.
    query = body if method == "GET" else None
    response = call(
        world.client("requester"),
        method,
        path.replace("/actions/cancel", "/actions/{action}"),
        params={**ref(world), "action": "cancel"},
        body=None if method == "GET" else body,
        query=query,
        multipart=path.endswith("/deliverables"),
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_a_comment_with_a_nul_character_is_a_400(world):
    response = call(
        world.client("requester"),
        "POST",
        f"{ONE}/comments",
        params=ref(world),
        body={"body": "a\x00b"},
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_an_error_in_a_field_named_body_names_body(world):
    response = call(
        world.client("requester"), "POST", f"{ONE}/comments", params=ref(world), body={}
    )
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_an_unknown_action_is_a_400(world):
    response = call(
        world.client("crew"),
        "POST",
        f"{ONE}/actions/{{action}}",
        params={"ref": world.release.number, "action": "teleport"},
        body={"revision": 1},
    )
    assert response.status_code == 400
    assert "action" in response.json()["errors"]


def test_a_return_without_a_reason_is_a_400_naming_reason(world):
    release = world.in_review
    response = call(
        world.client("crew"),
        "POST",
        f"{ONE}/actions/{{action}}",
        params={"ref": release.number, "action": "return"},
        body={"revision": release.revision, "target": "release_plan"},
    )
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]


def test_the_requester_approving_is_a_403_saying_why(world):
    response = call(
        world.client("requester"),
        "POST",
        f"{ONE}/approvals",
        params=review_ref(world),
        body={"step": "release_owner"},
    )
    assert response.status_code == 403
    assert "requested release" in response.json()["detail"]


def test_a_second_approval_by_the_same_person_is_a_409(world):
    client = world.client("owner")
    body = {"step": "release_owner"}
    assert (
        call(client, "POST", f"{ONE}/approvals", params=review_ref(world), body=body).status_code
        == 201
    )
    again = call(client, "POST", f"{ONE}/approvals", params=review_ref(world), body=body)
    assert again.status_code == 409


def test_an_upload_of_the_wrong_type_is_a_400_naming_file(world):
    response = call(
        world.client("requester"),
        "POST",
        f"{ONE}/deliverables",
        params=ref(world),
        body={
            "key": "release_plan",
            "file": factories.upload("plan.pdf", b"\x89PNG\r\n\x1a\n" + bytes(40)),
        },
        multipart=True,
    )
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_an_oversize_upload_is_refused(world, settings):
    assert world.release  # made before the limit shrinks
    settings.RELMAN_MAX_UPLOAD_BYTES = 10
    response = call(
        world.client("requester"),
        "POST",
        f"{ONE}/deliverables",
        params=ref(world),
        body={"key": "release_plan", "file": factories.upload("plan.txt", b"x" * 11)},
        multipart=True,
    )
    assert response.status_code in (400, 413)
    assert "file" in response.json()["errors"]


def test_a_missing_file_version_is_a_404(world):
    response = call(
        world.client("requester"),
        "GET",
        f"{ONE}/deliverables/{{key}}/versions/{{number}}/file",
        params={"ref": world.release.number, "key": "release_plan", "number": 7},
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- files and audit exports


def test_a_download_whose_file_is_gone_is_a_404_not_a_crash(world, settings):
    version = services.add_deliverable(
        world.users["requester"],
        world.release,
        key="release_plan",
        upload=factories.upload("gone.txt", b"soon gone"),
    )
    (Path(settings.MEDIA_ROOT) / version.file).unlink()
    response = call(
        world.client("requester"),
        "GET",
        f"{ONE}/deliverables/{{key}}/versions/{{number}}/file",
        params={"ref": world.release.number, "key": "release_plan", "number": version.number},
    )
    assert response.status_code == 404
    assert "missing" in response.json()["detail"]


def test_download_returns_the_exact_bytes_with_their_checksum(world):
    content = bytes(range(256)) * 40 + b"%PDF"
    pdf = b"%PDF-1.7\n" + content
    services.add_deliverable(
        world.users["requester"],
        world.release,
        key="release_plan",
        upload=factories.upload("plan v2.pdf", pdf),
    )
    response = call(
        world.client("requester"),
        "GET",
        f"{ONE}/deliverables/{{key}}/versions/{{number}}/file",
        params={"ref": world.release.number, "key": "release_plan", "number": 2},
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf
    digest = hashlib.sha256(pdf).hexdigest()
    assert response["X-Checksum-SHA256"] == digest
    assert response["ETag"] == f'"{digest}"'
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert "plan v2.pdf" in response["Content-Disposition"]


def test_the_deliverable_list_shows_every_version(world):
    services.add_deliverable(
        world.users["requester"],
        world.release,
        key="release_plan",
        url="https://wiki.example.com/plan",
    )
    response = call(world.client("requester"), "GET", f"{ONE}/deliverables", params=ref(world))
    (plan,) = response.json()
    assert plan["key"] == "release_plan"
    assert [v["number"] for v in plan["versions"]] == [2, 1]
    assert plan["versions"][0]["download"] is None


def test_the_audit_history_exports_as_csv_and_json(world):
    client = world.client("requester")
    as_csv = call(client, "GET", f"{ONE}/audit", params=ref(world), query={"format": "csv"})
    assert as_csv.status_code == 200
    assert as_csv["Content-Type"].startswith("text/csv")
    assert f'filename="{world.release.number}-audit.csv"' in as_csv["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert [r["action"] for r in rows] == ["release.created", "deliverable.added", "comment.added"]
    assert all(r["release_number"] == world.release.number for r in rows)

    as_json = call(client, "GET", f"{ONE}/audit", params=ref(world), query={"format": "json"})
    assert as_json["Content-Type"] == "application/json"
    events = json.loads(as_json.content)
    assert [e["seq"] for e in events] == [int(r["seq"]) for r in rows]
    assert events[-1]["after"] == {"body": "Please review."}
    assert events == sorted(events, key=lambda e: e["seq"])


def test_a_bad_audit_format_is_a_400(world):
    response = call(
        world.client("requester"), "GET", f"{ONE}/audit", params=ref(world), query={"format": "xml"}
    )
    assert response.status_code == 400
    assert "format" in response.json()["errors"]


def test_actions_through_the_api_are_recorded_as_api(world):
    call(
        world.client("requester"),
        "POST",
        f"{ONE}/comments",
        params=ref(world),
        body={"body": "via api"},
    )
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.channel, event.action, event.actor) == (
        "api",
        "comment.added",
        world.users["requester"],
    )
    assert event.request_id


# ---------------------------------------------------------------- the list


@pytest.fixture
def many(world):
    """Releases of different kinds, methods, classes, stages and states in crm and hr."""
    rita, carl = world.users["requester"], world.users["crew"]
    hank = factories.user("hank", "requester", app=world.other_app)
    made = {
        "patch": factories.release(rita, world.app, title="Patch the CRM", kind="patch"),
        "emergency": factories.release(
            rita, world.app, title="Hotfix login", kind="patch", method="emergency"
        ),
        "major": factories.release(
            rita, world.app, title="CRM 6", kind="new_system", release_class="major"
        ),
        "documents": factories.release(
            rita, world.app, title="Manual", kind="documents", version_number="DOC-7"
        ),
        "hr": factories.release(hank, world.other_app, title="HR upgrade"),
    }
    factories.walk_to(carl, made["major"], "backout_plan")
    services.cancel(carl, made["patch"], reason="dropped", revision=1)
    return {k: Release.objects.get(pk=v.pk) for k, v in made.items()}


def listed(world, who: str = "auditor", **query) -> list[str]:
    response = call(world.client(who), "GET", RELEASES, query=query)
    assert response.status_code == 200, response.content
    return numbers(response)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "closed"}, ["patch"]),
        ({"stage": "backout_plan"}, ["major"]),
        ({"kind": "documents"}, ["documents"]),
        ({"method": "emergency"}, ["emergency"]),
        ({"release_class": "major"}, ["major"]),
        ({"outcome": "cancelled"}, ["patch"]),
        ({"application": "hr"}, ["hr"]),
        ({"q": "hotfix"}, ["emergency"]),
        ({"q": "doc-7"}, ["documents"]),
        ({"kind": "patch", "status": "in_progress"}, ["emergency"]),
        ({"kind": ""}, ["hr", "documents", "major", "emergency", "patch"]),
    ],
)
def test_the_list_filters(many, world, query, expected):
    assert listed(world, **query) == [many[k].number for k in expected]


def test_the_list_filters_by_a_number(many, world):
    assert listed(world, q=many["major"].number) == [many["major"].number]


def test_the_list_filters_by_creation_date(many, world):
    today = timezone.localdate()
    Release.objects.filter(pk=many["hr"].pk).update(created=timezone.now() - timedelta(days=10))
    Release.objects.filter(pk=many["major"].pk).update(created=timezone.now() - timedelta(days=3))
    ten_days_ago = (today - timedelta(days=10)).isoformat()
    three_days_ago = (today - timedelta(days=3)).isoformat()
    assert listed(world, created_to=ten_days_ago) == [many["hr"].number]
    assert listed(world, created_from=three_days_ago, created_to=three_days_ago) == [
        many["major"].number
    ]
    assert set(listed(world, created_from=today.isoformat())) == {
        many[k].number for k in ("patch", "emergency", "documents")
    }


def test_the_list_shows_only_what_the_user_may_see(many, world):
    assert set(listed(world, who="requester")) == {
        many[k].number for k in ("patch", "emergency", "major", "documents")
    }
    assert listed(world, who="outsider") == [many["hr"].number]
    assert listed(world, who="nobody") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"ordering": "colour"}, "ordering"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"cursor": "not a cursor!"}, "cursor"),
        ({"cursor": encode_cursor("x", 1)[:-3]}, "cursor"),
    ],
)
def test_bad_list_parameters_are_a_400_naming_them(world, query, field):
    response = call(world.client("requester"), "GET", RELEASES, query=query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("value", "ordering"),
    [
        (["2024-99-99T25:61:00", 3], "-created"),  # a time that is not one
        (["2024-05-01T10:00:00", 3], "-created"),  # a time without its zone
        (["REL-2026-0001", 3], "-updated"),  # not a time at all
        ([{"a": 1}, 3], "-created"),  # not a value of any column
        ([{"a": 1}, 3], "title"),
        ([None, 3], "-created"),
        ([None, 3], "number"),
        (["x", "3"], "title"),  # the id is not a number
        ([1], "title"),
    ],
)
def test_a_forged_cursor_is_a_400_naming_cursor(world, value, ordering):
    forged = base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    response = call(
        world.client("requester"), "GET", RELEASES, query={"cursor": forged, "ordering": ordering}
    )
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["errors"]


def test_titles_that_look_like_times_page_by_title(world):
    rita = world.users["requester"]
    for title in ("2024-05-01T10:00:00 cut-over", "2024-05-01T10:00:00 cut-over", "2025-01-01T00"):
        factories.release(rita, world.app, title=title)
    client = world.client("requester")
    first = call(client, "GET", RELEASES, query={"ordering": "title", "limit": 1}).json()
    rest = call(
        client, "GET", RELEASES, query={"ordering": "title", "limit": 5, "cursor": first["next"]}
    ).json()
    seen = [row["number"] for row in first["items"] + rest["items"]]
    assert seen == expected_order("title")


@pytest.fixture
def thirty(world):
    """30 crm releases; titles repeat and some share their creation time, to test ties."""
    rita = world.users["requester"]
    made = [
        factories.release(rita, world.app, title=f"Release {i % 4}", kind="patch")
        for i in range(30)
    ]
    same_time = timezone.now() - timedelta(hours=1)
    Release.objects.filter(pk__in=[r.pk for r in made[5:15]]).update(created=same_time)
    return made


def expected_order(ordering: str) -> list[str]:
    field = ordering.lstrip("-")
    rows = sorted(
        Release.objects.all(),
        key=lambda r: (getattr(r, field), r.pk),
        reverse=ordering.startswith("-"),
    )
    return [r.number for r in rows]


@pytest.mark.parametrize(
    "ordering", ["-created", "created", "-number", "number", "title", "-updated"]
)
def test_keyset_pages_have_no_duplicates_or_gaps(thirty, world, ordering):
    client = world.client("requester")
    seen, cursor, pages = [], None, 0
    while True:
        query = {"ordering": ordering, "limit": 7, **({"cursor": cursor} if cursor else {})}
        response = call(client, "GET", RELEASES, query=query)
        assert response.status_code == 200
        page = response.json()
        seen += numbers(response)
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
        assert len(page["items"]) == 7
    assert pages == 5
    assert len(seen) == len(set(seen)) == 30
    assert seen == expected_order(ordering)


def test_the_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    client = world.client("requester")
    rita = world.users["requester"]
    factories.release(rita, world.app)
    call(client, "GET", RELEASES)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        assert len(numbers(call(client, "GET", RELEASES))) == 1
    for _ in range(25):
        factories.release(rita, world.app, kind="patch")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(numbers(call(client, "GET", RELEASES, query={"limit": 500}))) == 26


def test_the_detail_query_count_does_not_grow_with_history(world, django_assert_max_num_queries):
    client = world.client("requester")
    call(client, "GET", ONE, params=ref(world))
    with CaptureQueriesContext(connection) as few:
        call(client, "GET", ONE, params=ref(world))
    items = [key for kind, key, _n in factories.gate_items(world.release) if kind == "checklist"]
    for item in items:
        services.complete_checklist_item(world.users["crew"], world.release, item=item)
        services.add_comment(world.users["requester"], world.release, body=f"ticked {item}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        call(client, "GET", ONE, params=ref(world))
