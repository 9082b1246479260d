"""The reports API over a known history: its answer, and the pages of a figure's releases."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
KPI = "/api/v1/reports/kpi"


def test_pages_of_a_figure_and_the_kpi_figures_agree(history, django_assert_max_num_queries):
    client = Client()
    client.force_login(history.viewer)
    with django_assert_max_num_queries(10):
        answer = client.get(KPI, {"period": "2026Q3"}).json()
    assert answer["success_rate"]["value"] == 66.7
    assert answer["success_rate"]["of"] == "counted"
    assert "successful releases / all releases" in answer["success_rate"]["formula"]
    seen, cursor = [], None
    while True:
        query = {"period": "2026Q3", "figure": "counted", "limit": 4}
        page = client.get(f"{KPI}/releases", {**query, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.content
        seen += [row["number"] for row in page.json()["items"]]
        cursor = page.json()["next"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == answer["success_rate"]["denominator"] == 9
    other = client.get(
        f"{KPI}/releases", {"period": "2026Q2", "figure": "counted", "cursor": cursor or ""}
    )
    assert other.status_code == 200
