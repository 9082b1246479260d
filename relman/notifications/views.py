"""The outbox page: administrators see messages not yet delivered and send failed ones again.

Reads go through `services.outbox` (which refuses non-administrators) and the one filter
definition `OutboxFilters`; the retry button posts to `outbox_retry`, which calls
`services.retry`. The page costs the same number of queries whatever its number of rows.
"""

from __future__ import annotations

import pydantic
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relman.core.errors import DomainError, PermissionDenied
from relman.core.views import flash_form_errors, run_service
from relman.notifications import access, services
from relman.notifications.choices import MESSAGE_STATUS_COLOURS, ChannelKind, Event, MessageStatus
from relman.notifications.filters import OutboxFilters


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": message}, status=403)


def parse_filters(query: QueryDict) -> tuple[OutboxFilters, list[str]]:
    """The page's filters from its query string (unsent messages by default); a bad value is
    dropped with a message naming it, so bad input never breaks the page."""
    data = {name: query.get(name) for name in OutboxFilters.model_fields if name in query}
    data.setdefault("status", "unsent")
    problems: list[str] = []
    for _attempt in range(len(data) + 1):
        try:
            return OutboxFilters(**data), problems
        except pydantic.ValidationError as exc:
            bad = {str(error["loc"][0]) for error in exc.errors() if error.get("loc")} & set(data)
            if not bad:
                break
            for name in sorted(bad):
                problems.append(
                    _(
                        "'%(value)s' is not a valid value for the filter '%(field)s'; it was ignored."
                    )
                    % {"value": str(data.pop(name))[:60], "field": name}
                )
    return OutboxFilters(status="unsent"), problems


@login_required
def outbox_page(request: HttpRequest) -> HttpResponse:
    """Messages of the outbox, unsent ones by default, newest first."""
    if not access.can_administer(request.user):
        return _forbidden(request, _("Only administrators may see the notification outbox."))
    filters, problems = parse_filters(request.GET)
    rows, next_before = filters.page(services.outbox(request.user))
    for row in rows:
        row.colour = MESSAGE_STATUS_COLOURS.get(row.status, "grey")
    statuses = [("unsent", _("Not sent yet")), *MessageStatus.choices]
    return render(
        request,
        "notifications/outbox.html",
        {
            "rows": rows,
            "values": filters.model_dump(mode="json"),
            "problems": problems,
            "choices": {
                "status": statuses,
                "channel": ChannelKind.choices,
                "event": Event.choices,
            },
            "here": request.get_full_path(),
            "next_query": filters.query_string(before=next_before) if next_before else "",
        },
    )


@login_required
@require_POST
def outbox_retry(request: HttpRequest, uuid: str) -> HttpResponse:
    """Send one message again, then back to the outbox page it was asked from."""
    try:
        message = services.retry(request.user, uuid)
    except PermissionDenied as exc:
        return _forbidden(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The notification to %(target)s is queued to be sent again.")
            % {"target": message.target},
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("notifications:outbox")
    return redirect(back)


class SubscriptionForm(forms.Form):
    """A person's own subscription: which event, by which channel, to where."""

    event = forms.ChoiceField(
        label=gettext_lazy("Event"),
        required=False,
        choices=[("", gettext_lazy("Every event")), *Event.choices],
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=ChannelKind.choices)
    target = forms.CharField(
        label=gettext_lazy("Send to"),
        required=False,
        max_length=500,
        help_text=gettext_lazy(
            "An e-mail address (empty: your own) or the robot's or webhook's URL."
        ),
    )
    secret = forms.CharField(label=gettext_lazy("Signing secret"), required=False, max_length=200)


@login_required
def subscriptions_page(request: HttpRequest) -> HttpResponse:
    """What the user hears of beyond the defaults, and a form to add to it."""
    if request.method == "POST":
        form = SubscriptionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data

            def call() -> str:
                services.create_subscription(request.user, user=request.user, **data)
                return _("You are subscribed.")

            run_service(request, call)
        else:
            flash_form_errors(request, form)
        return redirect("notifications:subscriptions")
    return render(
        request,
        "notifications/subscriptions.html",
        {"subscriptions": services.subscriptions_of(request.user), "form": SubscriptionForm()},
    )


@login_required
@require_POST
def subscription_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """End one of the user's subscriptions."""

    def call() -> str:
        services.delete_subscription(request.user, subscription_id)
        return _("The subscription is removed.")

    run_service(request, call)
    return redirect("notifications:subscriptions")
