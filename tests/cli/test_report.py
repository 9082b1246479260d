"""`relman report kpi` over real HTTP: the same numbers as the API."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from relman.accounts.services import create_token
from tests.reports.conftest import history  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_report_kpi_prints_what_the_api_answers(run, live_server, history):  # noqa: F811
    _token, secret = create_token(None, history.viewer, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    answer = api.get("/api/v1/reports/kpi", {"period": "2026Q3", "application": "crm"}).json()

    as_json = run("report", "kpi", "--quarter", "2026Q3", "--app", "crm", "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == answer

    table = run("report", "kpi", "--quarter", "2026Q3", "--app", "crm")
    assert table.exit_code == 0, table.output
    lines = {
        line.split("  ")[0].strip(): line for line in table.stdout.splitlines() if line.strip()
    }
    assert "66.7 % (6/9)" in lines["Release success rate"]
    assert lines["Releases closed"].split()[-1] == str(answer["closed"]) == "10"
    assert "33.3 % (3/9) [low]" in lines["Change failure rate"]
    assert f"{answer['lead_time']['median_hours']:g}h" in lines["Lead time, median"]

    month = run("report", "kpi", "--month", "2026-07", "--json")
    assert json.loads(month.stdout)["period"]["key"] == "2026-07"

    bad = run("report", "kpi", "--quarter", "2026Q9")
    assert bad.exit_code == 1
    assert "period" in bad.stderr and "2026Q3" in bad.stderr


def test_report_documents_are_written_to_files(run, live_server, history, tmp_path):  # noqa: F811
    from io import BytesIO

    from openpyxl import load_workbook

    _token, secret = create_token(None, history.viewer, name="cli")
    assert run("login", live_server.url, "--token-stdin", input=f"{secret}\n").exit_code == 0
    target = tmp_path / "q3.xlsx"
    done = run("report", "quarter", "2026Q3", "--format", "xlsx", "-o", str(target))
    assert done.exit_code == 0, done.output
    book = load_workbook(BytesIO(target.read_bytes()))
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True) if row}
    assert summary["Period"] == "2026Q3"

    number = history.specs[0].number
    report = tmp_path / "report.md"
    done = run(
        "report",
        "release",
        number,
        "--document",
        "release_report",
        "--format",
        "md",
        "-o",
        str(report),
    )
    assert done.exit_code == 0, done.output
    assert report.read_text().startswith("# Release report") and number in report.read_text()

    bad = run("report", "release", number, "--document", "nothing", "--format", "md")
    assert bad.exit_code == 1 and "There is no document 'nothing'" in bad.stderr
