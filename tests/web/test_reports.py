"""The KPI dashboard and the releases behind its figures."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from tests.reports.conftest import history  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_dashboard_shows_the_figures_with_links_to_their_releases(
    history,  # noqa: F811
    django_assert_max_num_queries,
):
    client = login(history.viewer)
    with django_assert_max_num_queries(25):
        page = client.get("/reports/", {"period": "2026Q3"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "KPIs of 2026Q3" in text
    assert "66.7 %" in text and "successful releases / all releases" in text
    assert "<svg" in text and "2026Q3" in text and "2025Q4" in text
    assert "Elite" in text or "High" in text or "Medium" in text
    links = set(re.findall(r'href="/reports/releases/\?([^"]+)"', text))
    assert "period=2026Q3&amp;figure=failed" in links
    assert any("figure=kind_patch" in link for link in links)
    assert 'aria-current="page">Reports' in text
    assert "@media print" not in text  # the print rule lives in the stylesheet


def test_a_figure_lists_exactly_its_releases(history):  # noqa: F811
    client = login(history.viewer)
    page = client.get("/reports/releases/", {"period": "2026Q3", "figure": "change_failures"})
    assert page.status_code == 200
    listed = set(re.findall(r"REL-\d{4}-\d{4}", page.content.decode()))
    expected = {
        s.number
        for s in history.specs
        if s.app == "crm"
        and s.outcome in ("failed", "rolled_back")
        and "2026-07-01" <= s.ended < "2026-10-01"
    }
    assert listed == expected and len(expected) == 3


def test_bad_input_is_named_on_the_page(history):  # noqa: F811
    client = login(history.viewer)
    page = client.get("/reports/", {"period": "2026Q7"})
    assert page.status_code == 200
    assert "'2026Q7' is not a valid value for 'period'" in html.unescape(page.content.decode())
    page = client.get("/reports/releases/", {"period": "2026Q3", "figure": "nope"})
    assert page.status_code == 400
    assert "figure" in page.content.decode()


def test_a_figure_downloads_as_csv_and_xlsx_with_exactly_its_releases(history):  # noqa: F811
    import csv
    import io

    from openpyxl import load_workbook

    client = login(history.viewer)
    query = {"period": "2026Q3", "figure": "change_failures"}
    expected = {
        s.number
        for s in history.specs
        if s.app == "crm"
        and s.outcome in ("failed", "rolled_back")
        and "2026-07-01" <= s.ended < "2026-10-01"
    }
    page = client.get("/reports/releases/", query).content.decode()
    assert "/reports/releases/export.csv?period=2026Q3&amp;figure=change_failures" in page

    made = client.get("/reports/releases/export.csv", query)
    assert made.status_code == 200 and made["Content-Type"].startswith("text/csv")
    assert 'filename="2026Q3-change_failures.csv"' in made["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(made.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Number" and {r[0] for r in rows[1:]} == expected

    book = client.get("/reports/releases/export.xlsx", query)
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content)).worksheets[1]
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == expected

    assert client.get("/reports/releases/export.pdf", query).status_code == 404
    bad = client.get("/reports/releases/export.csv", {"period": "2026Q3"})
    assert bad.status_code == 400 and "figure" in bad.content.decode()
