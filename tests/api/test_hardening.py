"""Defects found by fuzzing the API and probing it as an ordinary user, each kept out by a test:
non-ASCII digits taken for ids, times with a zone, lax bodies and numbers, cursors used under
another ordering, and errors that were not JSON."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django.test import Client

from relman.releases.models import Release
from tests import factories

pytestmark = pytest.mark.django_db

API = "/api/v1"


def send(client: Client, method: str, url: str, body: object, content_type="application/json"):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.generic(method, url, data, content_type=content_type)


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["detail"]
    if field:
        assert field in body["errors"], body
    return body


@pytest.fixture
def rita(app):
    return factories.user("rita", "requester", app=app)


@pytest.fixture
def releases(rita, app):
    return [factories.release(rita, app, title=f"Release {n}") for n in range(4)]


# ---------------------------------------------------------------- 3. non-ASCII digits


# Digits Python's str.isdigit() accepts and int() reads: each spells a release's real id.
DIGITS = {
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "fullwidth": "０１２３４５６７８９",
    "devanagari": "०१२३४५६७८९",
}


@pytest.mark.parametrize("digits", DIGITS)
@pytest.mark.parametrize("tail", ["", "/audit", "/deliverables", "/approvals", "/checklist"])
def test_a_non_ascii_digit_is_no_release_id(api_client, rita, releases, digits, tail):
    spelled = "".join(DIGITS[digits][int(c)] for c in str(releases[0].pk))
    response = api_client(rita).get(f"{API}/releases/{quote(spelled)}{tail}")
    assert_error(response, 404, "not_found")
    superscript = api_client(rita).get(f"{API}/releases/%C2%B9{tail}")  # ¹: int() fails
    assert_error(superscript, 404, "not_found")


def test_a_non_ascii_digit_is_no_release_page(client, rita, releases):
    client.force_login(rita)
    assert client.get("/releases/%C2%B9/").status_code == 404
    assert client.get("/releases/%D9%A3/").status_code == 404


def test_a_non_ascii_digit_names_no_application(api_client, rita):
    response = send(
        api_client(rita),
        "POST",
        f"{API}/releases",
        {"application": "¹", "title": "x", "kind": "upgrade"},
    )
    assert_error(response, 400, "invalid", "application")


@pytest.mark.parametrize("path", ["calendar/windows/%C2%B9", "notifications/subscriptions/%C2%B9"])
def test_a_non_ascii_digit_in_an_id_path_is_a_400_naming_it(api_client, admin, path):
    response = api_client(admin).get(f"{API}/{path}")
    if response.status_code == 405:  # the subscription path takes PATCH and DELETE only
        response = send(api_client(admin), "PATCH", f"{API}/{path}", {})
    assert_error(response, 400, "invalid")


def test_an_id_too_large_for_the_database_is_a_400(api_client, admin):
    response = api_client(admin).get(f"{API}/calendar/windows/99999999999999999999")
    assert_error(response, 400, "invalid", "window_id")


def test_a_subscription_to_a_non_ascii_application_is_refused(api_client, rita):
    body = {"channel": "email", "event": "release.scheduled", "application": "¹"}
    response = send(api_client(rita), "POST", f"{API}/notifications/subscriptions", body)
    assert_error(response, 400, "invalid", "application")


# ---------------------------------------------------------------- 4. times with a zone


WINDOW = {"name": "Thursday", "first_date": "2030-01-03", "duration_minutes": 120}


@pytest.mark.parametrize("start_time", ["19:00Z", "19:00+08:00", "00:00:00Z"])
def test_a_window_time_with_a_zone_is_refused_naming_the_field(api_client, admin, start_time):
    client = api_client(admin)
    response = send(client, "POST", f"{API}/calendar/windows", {**WINDOW, "start_time": start_time})
    body = assert_error(response, 400, "invalid", "start_time")
    assert "without a zone" in body["detail"]
    made = send(client, "POST", f"{API}/calendar/windows", {**WINDOW, "start_time": "19:00"})
    assert made.status_code == 201, made.content
    patch = send(
        client, "PATCH", f"{API}/calendar/windows/{made.json()['id']}", {"start_time": start_time}
    )
    assert_error(patch, 400, "invalid", "start_time")


# ---------------------------------------------------------------- 6. lax input


@pytest.fixture
def window(api_client, admin):
    made = send(
        api_client(admin), "POST", f"{API}/calendar/windows", {**WINDOW, "start_time": "19:00"}
    )
    return made.json()


@pytest.mark.parametrize("body", ["[null, null]", "[]", "3", '"text"', "null"])
def test_a_body_that_is_not_an_object_is_refused(api_client, admin, window, body):
    response = send(api_client(admin), "PATCH", f"{API}/calendar/windows/{window['id']}", body)
    assert_error(response, 400, "invalid", "request")


def test_a_body_that_is_not_json_names_the_problem(api_client, admin, window):
    response = send(api_client(admin), "PATCH", f"{API}/calendar/windows/{window['id']}", "{")
    body = assert_error(response, 400, "invalid", "request")
    assert "not valid JSON" in body["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_only_with_a_json_content_type(api_client, admin, window, content_type):
    url = f"{API}/calendar/windows/{window['id']}"
    response = send(api_client(admin), "PATCH", url, {"name": "Renamed"}, content_type=content_type)
    assert_error(response, 415, "unsupported_media_type")
    assert api_client(admin).get(url).json()["name"] == "Thursday"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=0.5", "start"),
        ("start=0", "start"),
        ("end=1700000000", "end"),
    ],
)
def test_a_number_is_no_date_time_in_a_filter(api_client, admin, query, field):
    response = api_client(admin).get(f"{API}/calendar/occurrences?{query}")
    assert_error(response, 400, "invalid", field)


@pytest.mark.parametrize("query", ["planned_to=0", "created_from=20300101", "planned_from=1.5"])
def test_a_number_is_no_date_in_the_release_filters(api_client, rita, query):
    response = api_client(rita).get(f"{API}/releases?{query}")
    assert_error(response, 400, "invalid", query.split("=")[0])


def test_a_number_is_no_date_time_in_a_body(api_client, admin):
    body = {"name": "Freeze", "reason": "Year end", "starts": 0, "ends": "2030-01-01T00:00:00Z"}
    response = send(api_client(admin), "POST", f"{API}/calendar/freezes", body)
    assert_error(response, 400, "invalid", "starts")


@pytest.mark.parametrize("revision", [1.0, True, "1.0", "١"])
def test_an_integer_must_be_a_whole_json_number(api_client, rita, releases, revision):
    release = releases[0]
    response = send(
        api_client(rita),
        "PATCH",
        f"{API}/releases/{release.number}",
        {"revision": revision, "title": "New"},
    )
    assert_error(response, 400, "invalid", "revision")
    assert Release.objects.get(pk=release.pk).title == release.title


def test_a_cursor_is_bound_to_its_ordering_and_filters(api_client, rita, releases):
    client = api_client(rita)
    first = client.get(f"{API}/releases?ordering=title&limit=2").json()
    assert first["next"]
    same = client.get(f"{API}/releases?ordering=title&limit=3&cursor={first['next']}")
    assert same.status_code == 200  # the page size may change between pages
    for other in ("ordering=-created", "ordering=title&q=Release", "ordering=title&kind=patch"):
        response = client.get(f"{API}/releases?{other}&limit=2&cursor={first['next']}")
        body = assert_error(response, 400, "invalid", "cursor")
        assert "another ordering or other filters" in body["detail"]


def test_an_unknown_api_path_is_a_json_404(api_client, rita):
    assert_error(api_client(rita).get(f"{API}/no/such/thing"), 404, "not_found")


def test_an_oversized_body_is_a_json_413(api_client, rita, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"application": "crm", "title": "x", "kind": "upgrade", "description": "y" * 5000}
    response = send(api_client(rita), "POST", f"{API}/releases", body)
    assert_error(response, 413, "too_large")
    assert not Release.objects.exists()


def test_a_server_error_is_json_with_the_request_id(rita, monkeypatch):
    from relman.releases import api as releases_api

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(releases_api.access, "visible_releases", boom)
    client = Client(raise_request_exception=False)
    client.force_login(rita)
    response = client.get(f"{API}/releases", HTTP_X_REQUEST_ID="probe-500")
    body = assert_error(response, 500, "server_error")
    assert "probe-500" in body["detail"]


def test_a_csrf_failure_is_coded_forbidden(rita):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rita)
    response = send(
        client, "POST", f"{API}/releases", {"application": "crm", "title": "x", "kind": "upgrade"}
    )
    assert_error(response, 403, "forbidden")
    assert not Release.objects.exists()


@pytest.mark.parametrize(
    "rrule", ["FREQ=SECONDLY", "FREQ=MINUTELY", "FREQ=HOURLY", "FREQ=DAILY;BYMINUTE=1,2,3"]
)
def test_a_window_recurring_more_than_daily_is_refused(api_client, admin, rrule):
    """Such a rule would make every occurrence list walk millions of openings."""
    body = {**WINDOW, "start_time": "19:00", "rrule": rrule}
    response = send(api_client(admin), "POST", f"{API}/calendar/windows", body)
    assert_error(response, 400, "invalid", "rrule")


@pytest.mark.parametrize("start", ["0001-01-01T01:00:01Z", "9999-12-31T23:00:00Z"])
def test_a_date_at_the_ends_of_the_calendar_is_refused(api_client, admin, rita, releases, start):
    """Found by `make fuzz`: date arithmetic on such a time overflowed into a 500."""
    number = releases[0].number
    response = send(
        api_client(admin), "PUT", f"{API}/calendar/releases/{number}/schedule", {"start": start}
    )
    assert_error(response, 400, "invalid", "start")
