"""The outbox page: administrators see unsent messages and send failed ones again."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from relman.audit.models import AuditEvent
from relman.notifications import services
from relman.notifications.choices import MessageStatus
from relman.notifications.models import Message

pytestmark = pytest.mark.django_db

PAGE = "/notifications/outbox/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def outbox(cast, emit, receiver):
    """One failed webhook message, one sent e-mail, the other e-mail pending."""
    services.create_subscription(None, channel="webhook", target=receiver.url("/hook/ops"))
    messages = emit("release.failed", cast.release, actor=cast.crew, data={"reason": "boom"})
    by_channel = {(m.channel, m.target): m for m in messages}
    failed = by_channel[("webhook", receiver.url("/hook/ops"))]
    sent = by_channel[("email", "rita@example.test")]
    Message.objects.filter(pk=failed.pk).update(
        status=MessageStatus.FAILED, attempts=8, last_error="HTTP 502: bad gateway"
    )
    Message.objects.filter(pk=sent.pk).update(status=MessageStatus.SENT)
    return {"failed": failed, "sent": sent, "pending": by_channel[("email", "mark@example.test")]}


def test_anonymous_people_are_sent_to_log_in(db):
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_people_who_do_not_administer_are_refused(cast, outbox):
    for who in (cast.requester, cast.manager, cast.nobody):
        response = logged_in(who).get(PAGE)
        assert response.status_code == 403
        assert "Only administrators may see the notification outbox." in response.content.decode()
        assert str(outbox["failed"].uuid) not in response.content.decode()


def test_administrators_see_unsent_messages_with_a_retry_button_for_failed_ones(admin, outbox):
    page = logged_in(admin).get(PAGE).content.decode()

    assert f'id="message-{outbox["failed"].uuid}"' in page
    assert f'id="message-{outbox["pending"].uuid}"' in page
    assert f'id="message-{outbox["sent"].uuid}"' not in page
    assert "HTTP 502: bad gateway" in page
    assert page.count(">Retry</button>") == 1
    assert f"/notifications/outbox/{outbox['failed'].uuid}/retry/" in page


def test_the_filters_choose_status_channel_and_event(admin, outbox):
    client = logged_in(admin)
    sent = client.get(PAGE, {"status": "sent"}).content.decode()
    assert str(outbox["sent"].uuid) in sent
    assert str(outbox["failed"].uuid) not in sent
    webhooks = client.get(PAGE, {"status": "", "channel": "webhook"}).content.decode()
    assert str(outbox["failed"].uuid) in webhooks
    assert str(outbox["sent"].uuid) not in webhooks
    closed = client.get(PAGE, {"event": "release.closed"}).content.decode()
    assert "No notifications match these filters." in closed
    bad = client.get(PAGE, {"channel": "pigeon"})
    assert bad.status_code == 200
    assert "is not a valid value for the filter" in bad.content.decode()


def test_the_page_speaks_chinese(admin, outbox):
    client = logged_in(admin)
    client.post("/language/", {"language": "zh-hans", "next": PAGE})
    page = client.get(PAGE).content.decode()
    assert "通知发件箱" in page
    assert "重试" in page


def test_the_query_count_does_not_grow_with_rows(
    admin, cast, outbox, django_assert_max_num_queries
):
    from django.db import connection

    client = logged_in(admin)
    with CaptureQueriesContext(connection) as few:
        client.get(PAGE, {"status": ""})
    for _ in range(5):
        with transaction.atomic():
            services.emit("release.rolled_back", cast.release, actor=cast.crew)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PAGE, {"status": ""})
    assert response.content.decode().count('id="message-') == Message.objects.count()


def test_the_retry_button_queues_the_message_again(admin, outbox):
    failed = outbox["failed"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    page = client.get(PAGE)
    token = page.cookies["csrftoken"].value

    response = client.post(
        f"/notifications/outbox/{failed.uuid}/retry/",
        {"csrfmiddlewaretoken": token, "next": f"{PAGE}?channel=webhook"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?channel=webhook"
    failed.refresh_from_db()
    assert failed.status == MessageStatus.PENDING
    event = AuditEvent.objects.get(action="notification.retried")
    assert event.actor == admin
    assert event.channel == "web"
    followed = client.get(response["Location"]).content.decode()
    assert "is queued to be sent again" in followed


def test_the_retry_button_needs_the_csrf_token(admin, outbox):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post(f"/notifications/outbox/{outbox['failed'].uuid}/retry/")
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="notification.retried").exists()


def test_retry_is_refused_to_non_administrators(cast, outbox):
    response = logged_in(cast.manager).post(f"/notifications/outbox/{outbox['failed'].uuid}/retry/")
    assert response.status_code == 403
    outbox["failed"].refresh_from_db()
    assert outbox["failed"].status == MessageStatus.FAILED


def test_retry_of_a_sent_message_says_why_not(admin, outbox):
    client = logged_in(admin)
    response = client.post(
        f"/notifications/outbox/{outbox['sent'].uuid}/retry/",
        {"next": "https://evil.test/"},
        follow=True,
    )
    assert response.redirect_chain[0][0] == PAGE  # never off-site
    assert "never sent twice" in response.content.decode()


def test_retry_takes_only_posts(admin, outbox):
    response = logged_in(admin).get(f"/notifications/outbox/{outbox['failed'].uuid}/retry/")
    assert response.status_code == 405
