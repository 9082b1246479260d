"""The calendar is shown in /admin/ for reference, never changed there."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

MODELS = [
    "releasewindow",
    "freeze",
    "freezeoverride",
    "releaseschedule",
    "holidaycalendar",
    "windowplan",
    "feedtoken",
]


@pytest.mark.parametrize("model", MODELS)
def test_calendar_rows_are_read_only_in_admin(client, admin, model, upgrade_window):
    client.force_login(admin)
    assert client.get(f"/admin/calendar/{model}/").status_code == 200
    assert client.get(f"/admin/calendar/{model}/add/").status_code == 403
