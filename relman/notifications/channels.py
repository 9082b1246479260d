"""Thin adapters that send a rendered message through one channel each.

E-mail goes through Django's mail API (SMTP settings from the environment); the webhook and
the chat robots are one HTTP POST each with httpx, with a timeout, through the outbound guard
(`core.outbound`: no internal addresses, no redirects). Each adapter raises
`DeliveryFailed` when the message did not arrive: `final=True` when sending it again cannot
help (the receiver refused it for good), so the outbox stops retrying at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from relman.core import outbound
from relman.notifications.choices import ChannelKind
from relman.notifications.models import Message
from relman.notifications.rendering import Rendered

# HTTP statuses that are worth trying again; any other 4xx is final.
RETRYABLE_STATUSES = {408, 425, 429}
USER_AGENT = "relman-notifications/1"


class DeliveryFailed(Exception):
    """The message did not arrive; `final` when retrying cannot help."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


def timeout() -> float:
    return float(getattr(settings, "RELMAN_NOTIFY_TIMEOUT", 10))


# ---------------------------------------------------------------- payloads


def webhook_payload(message: Message, rendered: Rendered) -> dict[str, Any]:
    """The generic webhook's JSON body: raw values for machines, `text` for people."""
    release = message.release
    actor = message.actor
    return {
        "id": str(message.uuid),
        "event": message.event,
        "occurred": message.created.isoformat(),
        "release": None
        if release is None
        else {
            "number": release.number,
            "title": release.title,
            "application": release.application.code,
            "application_name": release.application.name,
            "stage": release.stage,
            "status": release.status,
            "url": rendered.link,
        },
        "actor": None if actor is None else {"username": actor.username, "name": str(actor)},
        "data": message.data or {},
        "language": rendered.language,
        "subject": rendered.subject,
        "text": rendered.text,
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook's X-Relman-Signature: sha256= and the hex HMAC of 'timestamp.body'."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """The robot's URL with DingTalk's &timestamp=&sign= (HMAC-SHA256 of
    'timestamp\\nsecret' keyed by the secret, base64, URL-encoded)."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else round(time.time() * 1000))
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256
    ).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp}&sign={sign}"


def dingtalk_payload(rendered: Rendered) -> dict[str, Any]:
    return {
        "msgtype": "markdown",
        "markdown": {"title": rendered.subject, "text": rendered.markdown},
    }


def wecom_payload(rendered: Rendered) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": rendered.markdown}}


def _slack_escape(value: str) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(rendered: Rendered) -> dict[str, Any]:
    """Block Kit: the headline, the facts as fields (Slack allows ten), a link button."""
    fields = [
        {"type": "mrkdwn", "text": f"*{_slack_escape(label)}*\n{_slack_escape(value)[:1900]}"}
        for label, value in rendered.facts[:10]
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(rendered.headline)}}
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    if rendered.link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": rendered.link_text},
                        "url": rendered.link,
                    }
                ],
            }
        )
    return {"text": f"{rendered.headline} {rendered.link}".strip(), "blocks": blocks}


# ---------------------------------------------------------------- sending


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST the body through the outbound guard; transport errors and refusing statuses
    become DeliveryFailed, a refused address a final one."""
    try:
        response = outbound.post(
            url,
            content=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                **headers,
            },
            timeout=timeout(),
        )
    except outbound.OutboundRefused as exc:
        # An internal address stays internal: sending again cannot help.
        raise DeliveryFailed(str(exc), final=True) from exc
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 300:
        final = 400 <= response.status_code < 500 and response.status_code not in RETRYABLE_STATUSES
        raise DeliveryFailed(
            f"HTTP {response.status_code}: {response.text[:300]}".strip(), final=final
        )
    return response


def _check_errcode(response: httpx.Response, robot: str) -> None:
    """DingTalk and WeCom answer 200 with {"errcode": 0} on success, another code on failure."""
    try:
        answer = response.json()
    except ValueError as exc:
        raise DeliveryFailed(f"{robot}: not a JSON answer: {response.text[:200]}") from exc
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        code = answer.get("errcode") if isinstance(answer, dict) else None
        errmsg = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        raise DeliveryFailed(f"{robot} errcode {code}: {errmsg}")


def send_email(message: Message, rendered: Rendered) -> None:
    """A multipart e-mail (text and HTML); its Message-ID is made from the delivery id."""
    sender = settings.DEFAULT_FROM_EMAIL
    domain = sender.rpartition("@")[2].strip(">") or "relman.local"
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.plain(),
        from_email=sender,
        to=[message.target],
        headers={
            "Message-ID": f"<{message.uuid}@{domain}>",
            "X-Relman-Event": message.event,
            "X-Relman-Delivery": str(message.uuid),
        },
        connection=get_connection(fail_silently=False),
    )
    email.attach_alternative(rendered.html(), "text/html")
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"SMTP refused the recipient: {exc.recipients}", final=True) from exc
    except smtplib.SMTPResponseException as exc:
        # 5xx answers are permanent (bad address, refused sender); 4xx are worth a retry.
        raise DeliveryFailed(
            f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", final=exc.smtp_code >= 500
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc


def send_webhook(message: Message, rendered: Rendered) -> None:
    """POST the JSON payload, signed with the subscription's secret when it has one."""
    body = _encode(webhook_payload(message, rendered))
    timestamp = str(int(time.time()))
    headers = {
        "X-Relman-Event": message.event,
        "X-Relman-Delivery": str(message.uuid),
        "X-Relman-Timestamp": timestamp,
    }
    secret = message.subscription.secret if message.subscription_id else ""
    if secret:
        headers["X-Relman-Signature"] = signature(secret, timestamp, body)
    _post(message.target, body, headers)


def send_dingtalk(message: Message, rendered: Rendered) -> None:
    """A DingTalk group robot's markdown message, signed when the robot has a secret."""
    secret = message.subscription.secret if message.subscription_id else ""
    url = dingtalk_signed_url(message.target, secret) if secret else message.target
    response = _post(url, _encode(dingtalk_payload(rendered)), {})
    _check_errcode(response, "DingTalk")


def send_wecom(message: Message, rendered: Rendered) -> None:
    """A WeCom (企业微信) group robot's markdown message."""
    response = _post(message.target, _encode(wecom_payload(rendered)), {})
    _check_errcode(response, "WeCom")


def send_slack(message: Message, rendered: Rendered) -> None:
    """A Slack incoming webhook's message: it answers 200 and the body 'ok'."""
    response = _post(message.target, _encode(slack_payload(rendered)), {})
    if response.status_code != 200 or response.text.strip() != "ok":
        raise DeliveryFailed(f"Slack answered {response.status_code}: {response.text[:200]}")


SENDERS: dict[str, Callable[[Message, Rendered], None]] = {
    ChannelKind.EMAIL: send_email,
    ChannelKind.WEBHOOK: send_webhook,
    ChannelKind.DINGTALK: send_dingtalk,
    ChannelKind.WECOM: send_wecom,
    ChannelKind.SLACK: send_slack,
}


def send(message: Message, rendered: Rendered) -> None:
    """Send through the message's channel; DeliveryFailed when it did not arrive."""
    sender = SENDERS.get(message.channel)
    if sender is None:
        raise DeliveryFailed(f"unknown channel '{message.channel}'", final=True)
    sender(message, rendered)
