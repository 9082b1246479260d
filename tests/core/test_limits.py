"""Resource limits, each from the environment and each answered with a clear error rather
than a held worker: PostgreSQL's statement timeout, the PDF time limit, list page sizes and
request body sizes."""

from __future__ import annotations

import runpy
import time

import pytest
from django.db import connection

import relman
from relman.approvals.services import cab
from relman.core import pdf
from relman.core.limits import TimedOut
from tests.api.matrix import API
from tests.approvals.cab_setup import CabWorld

SETTINGS_FILE = str(relman.__path__[0]) + "/settings.py"

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (set DATABASE_URL=postgres://...): SQLite has no statement timeout",
)


def settings_with(monkeypatch, **environment: str) -> dict:
    """relman's settings as they come out of this environment."""
    monkeypatch.setenv("SECRET_KEY", "test")
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(SETTINGS_FILE)


# ---------------------------------------------------------------- configuration


def test_the_limits_come_from_the_environment(monkeypatch):
    made = settings_with(
        monkeypatch,
        DATABASE_URL="postgres://relman@db.example/relman",
        RELMAN_DB_STATEMENT_TIMEOUT_MS="1234",
        RELMAN_PDF_TIMEOUT_SECONDS="7.5",
        RELMAN_MAX_BODY_MB="3",
        RELMAN_MAX_UPLOAD_MB="20",
        RELMAN_OUTBOUND_ALLOW="127.0.0.1/32, hooks.intra.example,",
    )

    assert made["DATABASES"]["default"]["OPTIONS"]["options"] == "-c statement_timeout=1234"
    assert made["RELMAN_PDF_TIMEOUT_SECONDS"] == 7.5
    assert made["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 3 * 1024 * 1024
    assert made["RELMAN_MAX_UPLOAD_BYTES"] == 20 * 1024 * 1024
    assert made["RELMAN_OUTBOUND_ALLOW"] == ["127.0.0.1/32", "hooks.intra.example"]


def test_the_defaults(monkeypatch):
    for name in (
        "RELMAN_DB_STATEMENT_TIMEOUT_MS",
        "RELMAN_PDF_TIMEOUT_SECONDS",
        "RELMAN_MAX_BODY_MB",
        "RELMAN_OUTBOUND_ALLOW",
    ):
        monkeypatch.delenv(name, raising=False)
    made = settings_with(monkeypatch, DATABASE_URL="postgres://relman@db.example/relman")

    assert made["DATABASES"]["default"]["OPTIONS"]["options"] == "-c statement_timeout=30000"
    assert made["RELMAN_PDF_TIMEOUT_SECONDS"] == 60
    assert made["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 10 * 1024 * 1024
    assert made["RELMAN_OUTBOUND_ALLOW"] == []
    sqlite = settings_with(monkeypatch, DATABASE_URL="sqlite:///x.sqlite3")
    assert "options" not in sqlite["DATABASES"]["default"]["OPTIONS"]


# ---------------------------------------------------------------- the statement timeout


@pytest.mark.django_db
@pytest.mark.postgres
@needs_postgres
def test_the_database_connection_has_the_statement_timeout(settings):
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        assert int(cursor.fetchone()[0]) == settings.RELMAN_DB_STATEMENT_TIMEOUT_MS > 0


class SlowApplications:
    """Stands in for the Application model: its query runs for five seconds."""

    class objects:
        @staticmethod
        def filter(**conditions: object) -> list:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(5)")
            return []


@pytest.mark.django_db
@pytest.mark.postgres
@needs_postgres
def test_a_statement_the_database_cancels_is_answered_503_timeout(admin, api_client, monkeypatch):
    from relman.cmdb import api as cmdb_api

    monkeypatch.setattr(cmdb_api, "Application", SlowApplications)
    client = api_client(admin)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 200")  # undone with the test's transaction

    started = time.monotonic()
    response = client.get(f"{API}/applications")

    assert time.monotonic() - started < 4
    assert response.status_code == 503
    assert response.json() == {
        "code": "timeout",
        "detail": "The database took too long to answer and the request was stopped; "
        "try again later, or narrow the request.",
    }


# ---------------------------------------------------------------- the PDF time limit

SLOW_HTML = "<html><body>" + "<table>" + "<tr><td>x</td></tr>" * 20000 + "</table></body></html>"


def test_a_pdf_is_made_within_its_time():
    made = pdf.render_pdf("<html><body><p>Minutes</p></body></html>", ".", timeout=60)

    assert made.startswith(b"%PDF")


def test_a_pdf_taking_too_long_is_stopped():
    started = time.monotonic()

    with pytest.raises(TimedOut) as stopped:
        pdf.render_pdf(SLOW_HTML, ".", timeout=0.5)

    assert time.monotonic() - started < 5
    assert stopped.value.status == 503
    assert str(stopped.value) == "Making the PDF took longer than 0.5 seconds and was stopped."


@pytest.fixture
def meeting(db, fast_passwords):
    world = CabWorld()
    world.release("Ledger upgrade")
    held = world.meeting()
    cab.record_attendance(world.chris, held, {"chris": True})
    return world, held


def test_the_minutes_api_answers_503_when_the_pdf_takes_too_long(settings, meeting, api_client):
    world, held = meeting
    settings.RELMAN_PDF_TIMEOUT_SECONDS = 0.01

    response = api_client(world.chris).get(f"{API}/cab/meetings/{held.pk}/minutes.pdf")

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "timeout"
    assert "took longer than 0.01 seconds" in body["detail"]


def test_the_minutes_page_answers_503_when_the_pdf_takes_too_long(settings, meeting, client):
    world, held = meeting
    settings.RELMAN_PDF_TIMEOUT_SECONDS = 0.01
    client.force_login(world.chris)

    response = client.get(f"/cab/{held.pk}/minutes.pdf")

    assert response.status_code == 503
    assert "took longer than 0.01 seconds" in response.content.decode()


# ---------------------------------------------------------------- page sizes


@pytest.mark.django_db
@pytest.mark.parametrize("path", [f"{API}/releases", f"{API}/notifications/outbox"])
def test_a_page_larger_than_500_is_refused_naming_limit(admin, api_client, path):
    client = api_client(admin)

    refused = client.get(path, {"limit": 501})

    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert list(refused.json()["errors"]) == ["limit"]
    assert client.get(path, {"limit": 500}).status_code == 200
