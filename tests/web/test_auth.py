"""Logging in and out, the front door and the layout."""

from __future__ import annotations

import pytest

from tests.web.helpers import text

pytestmark = pytest.mark.django_db


def test_the_front_door_is_the_home_page(login, requester):
    response = login(requester).get("/")
    assert response.status_code == 200
    assert "My open releases" in text(response)
    assert login().get("/")["Location"] == "/login/?next=/"


def test_anonymous_is_sent_to_log_in(login):
    response = login().get("/releases/", follow=True)
    assert response.redirect_chain[-1][0] == "/login/?next=/releases/"
    assert "Log in to relman" in text(response)


def test_a_bad_password_is_refused_with_a_clear_message(login, requester):
    response = login().post("/login/", {"username": "rita", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in text(response)
    assert "_auth_user_id" not in login().session


def test_a_good_password_opens_the_release_list(login, requester):
    client = login()
    response = client.post("/login/", {"username": "rita", "password": "a-Long-pass-123"})
    assert response.status_code == 302
    assert response["Location"] == "/releases/"
    page = text(client.get("/releases/"))
    assert "Rita Requester" in page
    assert 'action="/logout/"' in page


def test_log_out_is_a_post_and_returns_to_log_in(login, requester):
    client = login(requester)
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/releases/").status_code == 302


def test_layout_shows_navigation_and_admin_only_to_staff(login, requester, admin):
    page = text(login(requester).get("/releases/"))
    assert 'href="/releases/new/"' in page
    assert 'href="/api/v1/docs"' in page
    assert 'href="/admin/"' not in page
    admin.is_staff = True
    admin.save()
    assert 'href="/admin/"' in text(login(admin).get("/releases/"))


def test_language_switch_posts_to_the_language_page(login, requester):
    client = login(requester)
    page = text(client.get("/releases/"))
    assert 'action="/language/"' in page
    assert "简体中文" in page
    response = client.post("/language/", {"language": "zh-hans", "next": "/releases/"})
    assert response.status_code == 302
    assert '<html lang="zh-hans">' in text(client.get("/releases/"))


def test_chinese_log_in_page_renders(login):
    response = login(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/login/")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in text(response)


def test_logging_in_opens_the_pages_in_the_users_language(client, requester):
    requester.language = "zh-hans"
    requester.save(update_fields=["language"])
    response = client.post(
        "/login/", {"username": requester.username, "password": "a-Long-pass-123"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/releases/"
    assert 'lang="zh-hans"' in response.content.decode()
    assert client.cookies["django_language"].value == "zh-hans"


def test_switching_language_is_kept_on_the_profile_and_audited(client, requester):
    from relman.audit.models import AuditEvent

    client.force_login(requester)
    response = client.post("/language/", {"language": "zh-hans", "next": "/releases/"})
    assert response.status_code == 302
    requester.refresh_from_db()
    assert requester.language == "zh-hans"
    event = AuditEvent.objects.get(action="user.language_changed")
    assert (event.before, event.after) == ({"language": "en"}, {"language": "zh-hans"})
    assert 'lang="zh-hans"' in client.get("/releases/").content.decode()


def test_anyone_may_switch_the_login_page_language(client):
    response = client.post("/language/", {"language": "zh-hans", "next": "/login/"}, follow=True)
    assert "登录" in response.content.decode()
    response = client.post("/language/", {"language": "xx", "next": "/login/"})
    assert response.status_code == 302  # an unknown language is ignored, as Django does
