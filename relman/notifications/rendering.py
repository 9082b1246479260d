"""A message's words, made when it is sent, in its recipient's language.

The outbox keeps raw values (the event, the release, who did it, `data`); this module turns
them into a subject, a one-sentence headline, labelled facts and a link, and from those into
plain text, HTML (through the templates in templates/notifications/) and chat markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relman.core.errors import DomainError
from relman.notifications.choices import Event
from relman.notifications.models import Message
from relman.processes.definition import Process, Variant, pick
from relman.processes.messages import role_label, stage_label, step_label
from relman.releases.choices import Outcome


@dataclass
class Rendered:
    """A message in words: what the channels send."""

    subject: str
    headline: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""
    link_text: str = ""
    language: str = "en"

    @property
    def text(self) -> str:
        """Plain text: the headline, the facts one per line, the link."""
        lines = [self.headline, ""]
        lines += [f"{label}: {value}" for label, value in self.facts]
        if self.link:
            lines += ["", f"{self.link_text}: {self.link}"]
        return "\n".join(lines).strip() + "\n"

    @property
    def markdown(self) -> str:
        """Markdown for DingTalk and WeCom robots."""
        lines = [f"**{_md(self.headline)}**", ""]
        lines += [f"> {_md(label)}: {_md(value)}" for label, value in self.facts]
        if self.link:
            lines += ["", f"[{_md(self.link_text)}]({self.link})"]
        return "\n".join(lines)

    def html(self) -> str:
        with translation.override(self.language):
            return render_to_string("notifications/email.html", {"message": self})

    def plain(self) -> str:
        with translation.override(self.language):
            return render_to_string("notifications/email.txt", {"message": self})


def _md(value: str) -> str:
    """Text kept on one line, so a comment cannot start its own markdown block."""
    return " ".join(str(value).split())


def base_url() -> str:
    return str(getattr(settings, "RELMAN_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def release_url(number: str) -> str:
    """The release page's address, for people outside the web pages."""
    return base_url() + reverse("web:release-detail", kwargs={"number": number})


def _moment(value: Any) -> str:
    """An ISO date-time as '2027-03-11 19:00' in the server's zone; anything else as is."""
    if not isinstance(value, str):
        return str(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(moment):
        return moment.strftime("%Y-%m-%d %H:%M")
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _headlines() -> dict[str, str]:
    """What happened, per event, with %(release)s, %(actor)s and %(step)s to fill in."""
    return {
        Event.APPROVAL_REQUESTED: _("%(release)s waits for your approval (%(step)s)."),
        Event.APPROVAL_REMINDER: _(
            "Reminder: %(release)s still waits for your approval (%(step)s)."
        ),
        Event.APPROVAL_ESCALATED: _(
            "The approval of %(release)s (%(step)s) has waited too long and was escalated."
        ),
        Event.APPROVAL_APPROVED: _("%(actor)s approved %(release)s (%(step)s)."),
        Event.APPROVAL_REJECTED: _("%(actor)s rejected %(release)s (%(step)s)."),
        Event.APPROVAL_VOIDED: _("Approvals of %(release)s were voided (%(step)s)."),
        Event.RELEASE_SCHEDULED: _("%(release)s was scheduled for %(window)s."),
        Event.RELEASE_UNSCHEDULED: _("%(release)s was taken out of its release window."),
        Event.RELEASE_DEPLOYED: _("%(release)s entered deployment: %(stage)s."),
        Event.RELEASE_FAILED: _("%(release)s failed."),
        Event.RELEASE_ROLLED_BACK: _("%(release)s was rolled back."),
        Event.RELEASE_CLOSED: _("%(release)s was closed: %(outcome)s."),
        Event.CAB_SCHEDULED: _("A CAB meeting was scheduled for %(date)s."),
    }


def _flow(release: Any) -> tuple[Process, Variant] | None:
    """The process and flow the release follows; None without a release or when its flow is
    gone (the message is still sent, with raw keys instead of labels)."""
    from relman.releases.services.state import flow_of  # releases build on nothing of ours

    if release is None:
        return None
    try:
        return flow_of(release)
    except DomainError:
        return None


def _stage_label(release: Any, key: str) -> str:
    flow = _flow(release)
    return (stage_label(flow[1], key) or key) if flow else key


def _step_label(release: Any, data: dict[str, Any], language: str) -> str:
    """The approval step in words: the label the caller gave, else who decides it (the
    process's step of that stage: its role, narrowed to a department), else its role."""
    label = data.get("step_label")
    if isinstance(label, dict):
        return pick(label, language) or str(data.get("step", ""))
    step = str(data.get("step") or data.get("role") or "")
    flow = _flow(release) if step else None
    if flow is None:
        return step
    process, variant = flow
    stage = variant.stage(str(data.get("stage") or release.stage))
    found = stage.step(step) if stage is not None else None
    return step_label(process, found) if found is not None else role_label(process, step)


def _deliverable_label(release: Any, key: str, language: str) -> str:
    flow = _flow(release)
    return (pick(flow[0].deliverables.get(key), language) or key) if flow else key


def _outcome_label(value: Any) -> str:
    try:
        return str(Outcome(value).label)
    except ValueError:
        return str(value or "")


def render(message: Message) -> Rendered:
    """The message in words, in its language. Reads its release as it is now."""
    language = message.language or settings.LANGUAGE_CODE
    with translation.override(language):
        return _render(message, language)


def _render(message: Message, language: str) -> Rendered:
    data = dict(message.data or {})
    release = message.release
    actor = str(message.actor) if message.actor_id and message.actor else ""
    actor = actor or str(data.get("actor_name") or "") or _("relman")
    number, title = (release.number, release.title) if release is not None else ("", "")
    stage_key = str(data.get("stage") or (release.stage if release is not None else ""))
    stage = _stage_label(release, stage_key) if stage_key else stage_key
    step = _step_label(release, data, language) or stage
    values = {
        "release": number or _("a release"),
        "actor": actor,
        "step": step or "-",
        "stage": stage or "-",
        "window": _moment(data.get("window") or data.get("start") or "") or "-",
        "outcome": _outcome_label(data.get("outcome") or (release.outcome if release else "")),
        "date": _moment(data.get("date") or data.get("window") or "") or "-",
    }
    try:
        event_label = str(Event(message.event).label)
    except ValueError:
        event_label = message.event
    headline = _headlines().get(message.event, event_label + ": %(release)s") % values
    facts: list[tuple[str, str]] = []
    if number:
        facts.append((_("Release"), f"{number} {title}".strip()))
    if release is not None:
        facts.append((_("Application"), f"{release.application.name} ({release.application.code})"))
    if stage:
        facts.append((_("Stage"), stage))
    if data.get("step") or data.get("step_label"):
        facts.append((_("Approval step"), step))
    facts.append((_("Done by"), actor))
    if data.get("window") or data.get("start"):
        facts.append((_("Window"), values["window"]))
    if data.get("previous_window"):
        facts.append((_("Previously"), _moment(data["previous_window"])))
    if data.get("outcome"):
        facts.append((_("Outcome"), values["outcome"]))
    if data.get("on_behalf_of"):
        facts.append((_("On behalf of"), str(data["on_behalf_of"])))
    if data.get("deliverable"):
        changed = _deliverable_label(release, str(data["deliverable"]), language)
        if data.get("version"):
            changed = f"{changed} v{data['version']}"
        facts.append((_("Changed deliverable"), changed))
    if data.get("title") and not number:
        facts.append((_("Meeting"), str(data["title"])))
    if data.get("location"):
        facts.append((_("Location"), str(data["location"])))
    if data.get("agenda") and isinstance(data["agenda"], list):
        facts.append((_("Agenda"), ", ".join(str(n) for n in data["agenda"])))
    if data.get("services") and isinstance(data["services"], list):
        facts.append((_("Services affected"), ", ".join(str(n) for n in data["services"])))
    if data.get("comment"):
        facts.append((_("Comment"), str(data["comment"])))
    if data.get("reason"):
        facts.append((_("Reason"), str(data["reason"])))
    if data.get("escalated_to"):
        facts.append((_("Escalated to"), str(data["escalated_to"])))
    if data.get("due"):
        facts.append((_("Due"), _moment(data["due"])))
    if number:
        link, link_text = release_url(number), _("Open the release")
    else:
        link, link_text = base_url() + "/", _("Open relman")
    subject = (
        f"[relman] {event_label}: {number} {title}".strip() if number else f"[relman] {headline}"
    )
    return Rendered(
        subject=" ".join(subject.split())[:200],
        headline=headline,
        facts=facts,
        link=link,
        link_text=link_text,
        language=language,
    )
