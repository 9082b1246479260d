"""The release pages: the list, the request form and the release page.

The POSTs of the release page are in `actions.py`.
"""

from __future__ import annotations

from typing import Any

import pydantic
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from relman.accounts import services as accounts
from relman.accounts.models import Team
from relman.cmdb.models import Application
from relman.core.errors import DomainError
from relman.processes import services as processes
from relman.processes.definition import pick
from relman.releases import access, services
from relman.releases.choices import (
    Action,
    Kind,
    Method,
    Outcome,
    ReleaseClass,
    Status,
)
from relman.releases.filters import ReleaseFilters
from relman.releases.models import (
    Approval,
    ChecklistTick,
    DeliverableVersion,
    Release,
)
from relman.releases.services import scope
from relman.web.changes import release_changes_panel
from relman.web.cmdb import impact_rows
from relman.web.documents import release_links
from relman.web.forms import (
    CommentForm,
    DeliverableForm,
    ReleaseEditForm,
    ReleaseForm,
)
from relman.web.history import history
from relman.web.scope import get_release

# The release list's filters as the page names them (for messages about bad input).
FILTER_LABELS = {
    "status": gettext_lazy("Status"),
    "stage": gettext_lazy("Stage"),
    "kind": gettext_lazy("Kind"),
    "method": gettext_lazy("Method"),
    "release_class": gettext_lazy("Class"),
    "outcome": gettext_lazy("Outcome"),
    "application": gettext_lazy("Application"),
    "q": gettext_lazy("Text"),
    "created_from": gettext_lazy("Created from"),
    "created_to": gettext_lazy("Created to"),
    "planned_from": gettext_lazy("Planned from"),
    "planned_to": gettext_lazy("Planned to"),
    "ordering": gettext_lazy("Order"),
    "limit": gettext_lazy("Rows per page"),
    "cursor": gettext_lazy("Page"),
}
# Actions that need a reason whatever the outcome.
REASONED = {Action.RETURN, Action.ROLLBACK, Action.CANCEL}


# ---------------------------------------------------------------- the list


def parse_filters(query: QueryDict) -> tuple[ReleaseFilters, list[str]]:
    """The list's filters from a query string; a bad value is dropped with a message naming
    its field, so that bad input never breaks the page."""
    data = {name: query.get(name) for name in ReleaseFilters.model_fields if name in query}
    problems: list[str] = []
    for _attempt in range(len(data) + 1):
        try:
            return ReleaseFilters(**data), problems
        except pydantic.ValidationError as exc:
            bad = {str(error["loc"][0]) for error in exc.errors() if error.get("loc")} & set(data)
            if not bad:
                break
            for name in sorted(bad):
                problems.append(
                    _(
                        "'%(value)s' is not a valid value for the filter '%(field)s'; it was ignored."
                    )
                    % {"value": str(data.pop(name))[:60], "field": FILTER_LABELS.get(name, name)}
                )
    return ReleaseFilters(), problems


def stage_label(process_id: int, variant: str, stage: str, language: str | None) -> str:
    """A stage's label from the release's process version (definitions are cached)."""
    flow = processes.definition(process_id).variant(variant)
    found = flow.stage(stage) if flow else None
    return pick(found.label, language) if found else stage


def stage_choices(language: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The stages of every current process, grouped by process, for the stage filter."""
    groups = []
    for version in processes.latest_versions():
        seen: dict[str, str] = {}
        for variant in processes.definition(version).variants:
            for stage in variant.stages:
                seen.setdefault(stage.key, pick(stage.label, language))
        groups.append((version.label, list(seen.items())))
    return groups


@login_required
def release_list(request: HttpRequest) -> HttpResponse:
    """The releases the user may see, filtered, one keyset page at a time."""
    filters, problems = parse_filters(request.GET)
    queryset = access.visible_releases(request.user).select_related("application", "requester")
    try:
        rows, next_cursor = filters.page(queryset)
    except DomainError as exc:
        problems.append(exc.message)
        filters = filters.model_copy(update={"cursor": None})
        rows, next_cursor = filters.page(queryset)
    language = get_language()
    for row in rows:
        row.stage_label = stage_label(row.process_id, row.variant, row.stage, language)
    context = {
        "rows": rows,
        "filters": filters,
        "values": filters.model_dump(mode="json"),
        "problems": problems,
        "next_query": filters.query_string(cursor=next_cursor) if next_cursor else "",
        "first_query": filters.query_string(cursor="") if filters.cursor else None,
    }
    partial = request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    )
    if partial:
        response = render(request, "web/_release_table.html", context)
        # The address bar shows the filters in use, without the empty fields of the form.
        query = filters.query_string()
        response["HX-Push-Url"] = reverse("web:release-list") + (f"?{query}" if query else "")
    else:
        context.update(
            applications=Application.objects.order_by("code").only("code", "name"),
            stage_groups=stage_choices(language),
            choices={
                "status": Status.choices,
                "outcome": Outcome.choices,
                "kind": Kind.choices,
                "method": Method.choices,
                "release_class": ReleaseClass.choices,
            },
        )
        response = render(request, "web/release_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# ---------------------------------------------------------------- requesting a release


@login_required
def release_create(request: HttpRequest) -> HttpResponse:
    """The request form for a new release; the service numbers it and chooses its flow."""
    form = ReleaseForm(request.POST or None, user=request.user)
    if not form.fields["application"].queryset.exists():
        return render(
            request,
            "web/forbidden.html",
            {
                "message": _(
                    "You may not request releases for any application. Ask an administrator "
                    "for the requester role on an application."
                )
            },
            status=403,
        )
    if request.method == "POST" and form.is_valid():
        data = form.service_arguments()
        try:
            release = services.create_release(
                request.user,
                application=data.pop("application"),
                title=data.pop("title"),
                kind=data.pop("kind"),
                method=data.pop("method"),
                release_class=data.pop("release_class"),
                **data,
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                _("Release %(number)s was requested; it is in stage '%(stage)s'.")
                % {
                    "number": release.number,
                    "stage": stage_label(
                        release.process_id, release.variant, release.stage, get_language()
                    ),
                },
            )
            return redirect("web:release-detail", number=release.number)
    return render(request, "web/release_form.html", {"form": form})


@login_required
def release_edit(request: HttpRequest, number: str) -> HttpResponse:
    """Edit an open release's details through `services.update_release`; a stale revision
    (someone changed it since the form was opened) is refused with the service's message and
    the user's input kept on the form."""
    release = get_release(request.user, number)
    if not access.can_edit(request.user, release):
        return render(
            request,
            "web/forbidden.html",
            {"message": _("You may not change release %s.") % release.number},
            status=403,
        )
    initial = {name: getattr(release, name) for name in EDIT_FIELDS}
    initial["revision"] = release.revision
    form = ReleaseEditForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_release(
                request.user, release, revision=form.cleaned_data["revision"], **form.changes()
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("Release %s was updated.") % release.number)
            return redirect("web:release-detail", number=release.number)
    return render(request, "web/release_form.html", {"form": form, "release": release})


EDIT_FIELDS = (
    "title",
    "version_number",
    "risk",
    "environment",
    "release_manager",
    "planned_start",
    "planned_end",
    "description",
    "scope",
    "impact",
    "backout_plan",
)


def add_errors(form: Any, exc: DomainError) -> None:
    """Put a service's errors on the form's fields (or on the form when no field matches)."""
    if not exc.errors:
        form.add_error(None, exc.message)
        return
    for name, problems in exc.errors.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


# ---------------------------------------------------------------- the release page


@login_required
def release_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Where a release stands, what its gate needs, and what the user may do about it."""
    release = get_release(request.user, number)
    state = services.release_state(request.user, release)
    language = get_language()
    process = state.process
    approvals = Approval.objects.filter(
        release=release, stage=release.stage, voided__isnull=True
    ).select_related("approver", "on_behalf_of")
    ticks = {
        tick.item: tick
        for tick in ChecklistTick.objects.filter(
            release=release, stage=release.stage, voided__isnull=True
        ).select_related("done_by")
    }
    approvers: dict[str, list[Any]] = {}
    for approval in approvals:
        approvers.setdefault(approval.step, []).append(approval)
    decidable = {d.step.key: d for d in state.decidable}
    gate = [
        {
            **item,
            "tick": ticks.get(item["key"]) if item["kind"] == "checklist" else None,
            "approvals": approvers.get(item["key"], []) if item["kind"] == "approval" else [],
            "decidable": decidable.get(item["key"]) if item["kind"] == "approval" else None,
            "kind_label": state.gate_kinds.get(item["kind"], item["kind"]),
        }
        for item in state.gate
    ]
    current = state.variant.stage(release.stage)
    needed_now = set(current.deliverables) if current else set()
    deliverable_choices = [
        (key, pick(label, language) + (" *" if key in needed_now else ""))
        for key, label in process.deliverables.items()
    ]
    missing = [i["key"] for i in state.gate if i["kind"] == "deliverable" and not i["met"]]
    deliverables = release.deliverables.prefetch_related(
        Prefetch("versions", queryset=DeliverableVersion.objects.select_related("uploaded_by"))
    )
    for deliverable in deliverables:
        deliverable.label = pick(process.deliverables.get(deliverable.key), language) or (
            deliverable.title
        )
    context = {
        "release": release,
        "state": state,
        "gate": gate,
        "actions": action_views(state),
        "current_label": pick(current.label, language) if current else release.stage,
        "flow_label": pick(state.variant.label, language),
        "deliverables": deliverables,
        "deliverable_form": DeliverableForm(
            deliverables=deliverable_choices,
            initial={"key": missing[0] if missing else None},
        ),
        "comments": release.comments.select_related("author"),
        "comment_form": CommentForm(),
        "events": history(release, process, {s.key: s.label for s in state.stages}, language),
        "voided_approvals": Approval.objects.filter(release=release, stage=release.stage)
        .exclude(void_reason="")
        .select_related("approver"),
        "can_edit": access.can_edit(request.user, release),
        **cmdb_panel(request.user, release),
        **release_changes_panel(request.user, release),
        "documents": release_links(release),
    }
    return render(request, "web/release_detail.html", context)


def cmdb_panel(user: Any, release: Release) -> dict[str, Any]:
    """The configuration items the release touches, what depends on them, and the live
    impact review: a constant number of queries."""
    found = scope.release_impact(user, release)
    involved = {t.pk for t in found.departments}
    added = set(release.added_teams.values_list("team_id", flat=True))
    return {
        "touched": found.touched,
        "impact": impact_rows(found.affected),
        "impact_review": found.review,
        "departments": [(t, t.pk in added) for t in found.departments],
        "other_departments": Team.objects.filter(is_active=True)
        .exclude(pk__in=involved)
        .order_by("name"),
    }


def action_views(state: services.ReleaseState) -> list[dict[str, Any]]:
    """The actions of the current stage as the page shows them, allowed ones first."""
    stages = [s for s in state.stages if s.state != "skipped"]
    keys = [s.key for s in stages]
    here = keys.index(state.release.stage) if state.release.stage in keys else -1
    following = stages[here + 1].label if 0 <= here < len(stages) - 1 else ""
    gate = set(state.unmet)
    views = []
    for action in state.actions:
        label = action.label
        if action.action == Action.ADVANCE and following:
            label = _("Advance to '%s'") % following
        elif action.action == Action.CANCEL:
            label = _("Cancel the release")
        # The gate's sentences are listed beside the gate; here one line points to them.
        reasons = [r for r in action.reasons if r not in gate]
        if len(reasons) < len(action.reasons):
            reasons.append(_("The gate of this stage is not met yet."))
        views.append(
            {
                "action": action.action,
                "label": label,
                "allowed": action.allowed,
                "reasons": reasons,
                "all_reasons": action.reasons,
                "targets": action.targets,
                "needs_reason": action.action in REASONED,
                "is_close": action.action == Action.CLOSE,
                "danger": action.action in (Action.ROLLBACK, Action.CANCEL),
            }
        )
    return sorted(views, key=lambda v: not v["allowed"])


class LoginView(auth_views.LoginView):
    """Log in, and open the pages in the language the user chose before."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.get_user().language, samesite="Lax")
        return response


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Switch the pages' language; a logged-in user's choice is kept on their profile."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        accounts.set_language(request.user, request.user, language)
    return set_language(request)
