"""The change pages: the list (`change_list`), a change's page (`change_detail`) and its
actions, and the "Changes" panel of the release page (`release_changes_panel`, and the
POST `release_changes` that adds or removes one). Every write calls a change service."""

from __future__ import annotations

from typing import Any

import pydantic
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from relman.changes import access, services
from relman.changes.choices import STATUS_COLOURS, Achieved, Approval, ChangeType, Risk, Status
from relman.changes.filters import ChangeFilters
from relman.changes.models import Change, ChangeReview
from relman.cmdb.models import Application
from relman.core.errors import DomainError, NotFound
from relman.core.views import flash_form_errors, run_service
from relman.releases import access as release_access
from relman.releases.models import Release
from relman.web.scope import change_scope


def _filters(query: Any) -> tuple[ChangeFilters, list[str]]:
    """The list's filters from a query string; a bad value is dropped with a message."""
    data = {name: query.get(name) for name in ChangeFilters.model_fields if name in query}
    problems: list[str] = []
    for _attempt in range(len(data) + 1):
        try:
            return ChangeFilters(**data), problems
        except pydantic.ValidationError as exc:
            bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")} & set(data)
            if not bad:
                break
            for name in sorted(bad):
                problems.append(
                    _(
                        "'%(value)s' is not a valid value for the filter '%(field)s'; it was ignored."
                    )
                    % {"value": str(data.pop(name))[:60], "field": name}
                )
    return ChangeFilters(), problems


@require_GET
@login_required
def change_list(request: HttpRequest) -> HttpResponse:
    """Requests for change, filtered, one keyset page (newest first)."""
    filters, problems = _filters(request.GET)
    rows = Change.objects.select_related("application", "requester")
    try:
        page, next_cursor = filters.page(rows)
    except DomainError as exc:
        problems.append(exc.message)
        filters = filters.model_copy(update={"cursor": None})
        page, next_cursor = filters.page(rows)
    for change in page:
        change.colour = STATUS_COLOURS.get(change.status, "grey")
    return render(
        request,
        "web/change_list.html",
        {
            "rows": page,
            "values": filters.model_dump(mode="json"),
            "problems": problems,
            "next_query": filters.query_string(cursor=next_cursor) if next_cursor else "",
            "first_query": filters.query_string(cursor="") if filters.cursor else None,
            "choices": {
                "status": Status.choices,
                "type": ChangeType.choices,
                "approval": Approval.choices,
                "risk": Risk.choices,
            },
            "applications": Application.objects.order_by("code").only("code", "name"),
        },
    )


def _get_change(number: str) -> Change:
    try:
        return services.get_change(number)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_GET
@login_required
def change_detail(request: HttpRequest, number: str) -> HttpResponse:
    """A change: its details, approval, configuration items, releases and reviews, and what
    the user may do about it."""
    change = _get_change(number)
    links = list(change.release_links.select_related("release").order_by("-release_id"))
    reviews = ChangeReview.objects.filter(change=change).select_related("release", "reviewer")
    reviewable = [
        link.release
        for link in links
        if services.review_open(link.release)
        and access.can_review(request.user, change, link.release)
        and not any(r.release_id == link.release_id for r in reviews)
    ]
    return render(
        request,
        "web/change_detail.html",
        {
            "change": change,
            "colour": STATUS_COLOURS.get(change.status, "grey"),
            "items": change.items.select_related("type").order_by("name", "id"),
            "links": links,
            "reviews": reviews,
            "can_edit": access.can_edit(request.user, change),
            "can_decide": change.status == Status.SUBMITTED
            and access.can_decide(request.user, change),
            "reviewable": reviewable,
            "achieved": Achieved.choices,
        },
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("submit", "submit"), ("approve", "approve"), ("reject", "reject")]
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=10_000)
    revision = forms.IntegerField(min_value=1, required=False)


@login_required
@require_POST
def change_decide(request: HttpRequest, number: str) -> HttpResponse:
    """Submit a change, or approve or reject it (change management)."""
    change = _get_change(number)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("web:change-detail", number=change.number)
    data = form.cleaned_data

    def call() -> str:
        if data["decision"] == "submit":
            services.submit_change(request.user, change, revision=data["revision"])
            return _("Change %s is sent to change management.") % change.number
        if data["decision"] == "approve":
            services.approve_change(
                request.user, change, revision=data["revision"], note=data["note"]
            )
            return _("Change %s is approved.") % change.number
        services.reject_change(request.user, change, revision=data["revision"], note=data["note"])
        return _("Change %s is rejected.") % change.number

    run_service(request, call)
    return redirect("web:change-detail", number=change.number)


class ReviewForm(forms.Form):
    release = forms.CharField(label=gettext_lazy("Release"), max_length=64)
    achieved = forms.ChoiceField(label=gettext_lazy("Aim achieved"), choices=Achieved.choices)
    side_effects = forms.CharField(
        label=gettext_lazy("Side effects"), required=False, max_length=10_000
    )


@login_required
@require_POST
def change_review(request: HttpRequest, number: str) -> HttpResponse:
    """Record the change review after a release that carried the change."""
    change = _get_change(number)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return redirect("web:change-detail", number=change.number)
    data = form.cleaned_data

    def call() -> str:
        services.review_change(
            request.user,
            change,
            achieved=data["achieved"],
            side_effects=data["side_effects"],
            release=data["release"],
        )
        return _("The review of %s is recorded.") % change.number

    run_service(request, call)
    back = request.POST.get("back") or ""
    if back == "release":
        return redirect(
            reverse("web:release-detail", kwargs={"number": data["release"]}) + "#changes"
        )
    return redirect("web:change-detail", number=change.number)


# ---------------------------------------------------------------- the release page's panel


def release_changes_panel(user: Any, release: Release) -> dict[str, Any]:
    """The changes a release carries with their approval and reviews, and whether the user
    may add, remove or review them: four queries."""
    links = services.release_changes(release)
    open_review = services.review_open(release)
    for link in links:
        link.colour = STATUS_COLOURS.get(link.change.status, "grey")
        link.review = link.change.release_reviews[0] if link.change.release_reviews else None
        link.reviewable = (
            open_review and link.review is None and access.can_review(user, link.change, release)
        )
    return {
        "carried": links,
        "can_carry": release_access.can_edit(user, release),
        "achieved_choices": Achieved.choices,
    }


@login_required
@require_POST
def release_changes(request: HttpRequest, number: str) -> HttpResponse:
    """Add a change to the release, or remove one, by its number."""
    return change_scope(
        request,
        number,
        field="change",
        label=_("Change"),
        service=services.change_release_changes,
        added=_("Release %(number)s now carries %(change)s."),
        removed=_("Release %(number)s no longer carries %(change)s."),
        anchor="changes",
    )


@require_GET
@login_required
def change_search(request: HttpRequest) -> HttpResponse:
    """Up to 20 open changes whose number or title holds the text, as `<option>`s."""
    text = (request.GET.get("q") or request.GET.get("change") or "").strip()[:200]
    rows = (
        ChangeFilters(q=text).apply(Change.objects.exclude(status__in=["closed", "cancelled"]))
        if len(text) >= 2
        else Change.objects.none()
    )
    return render(request, "web/_change_options.html", {"rows": rows[:20]})
