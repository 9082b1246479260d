"""The POSTs of the release page: lifecycle actions, checklist, approvals, deliverables,
comments. Each calls a service and redirects back to the page (POST-redirect-GET); a domain
error becomes a message on the page, in the words the service chose.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relman.approvals.services import decisions
from relman.core.views import flash_form_errors, run_service
from relman.processes.definition import pick
from relman.releases import services
from relman.releases.choices import Action, Outcome, Status
from relman.web.forms import ActionForm, ApprovalForm, ChecklistForm, CommentForm, DeliverableForm
from relman.web.scope import back_to, change_scope, get_release
from relman.web.views import stage_label


@login_required
@require_POST
def release_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Advance, return, roll back, cancel or close a release."""
    if action not in Action.values:
        raise Http404(action)
    release = get_release(request.user, number)
    form = ActionForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return back_to(release)

    def call() -> str:
        data = form.cleaned_data
        moved = services.transition(
            request.user,
            release.pk,
            action,
            revision=data["revision"],
            target=data["target"],
            reason=data["reason"],
            outcome=data["outcome"] or Outcome.SUCCEEDED,
        )
        if moved.status == Status.CLOSED:
            return _("Release %(number)s is closed: %(outcome)s.") % {
                "number": moved.number,
                "outcome": Outcome(moved.outcome).label,
            }
        return _("Release %(number)s is now in stage '%(stage)s'.") % {
            "number": moved.number,
            "stage": stage_label(moved.process_id, moved.variant, moved.stage, get_language()),
        }

    run_service(request, call)
    return back_to(release)


@login_required
@require_POST
def release_tick(request: HttpRequest, number: str) -> HttpResponse:
    """Mark a checklist item of the current stage done."""
    release = get_release(request.user, number)
    form = ChecklistForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return back_to(release, "gate")

    def call() -> str:
        services.complete_checklist_item(
            request.user, release.pk, item=form.cleaned_data["item"], note=form.cleaned_data["note"]
        )
        return _("Checklist item done.")

    run_service(request, call)
    return back_to(release, "gate")


@login_required
@require_POST
def release_approve(request: HttpRequest, number: str) -> HttpResponse:
    """Approve or reject a step of the current stage (for oneself or as a delegate)."""
    release = get_release(request.user, number)
    form = ApprovalForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return back_to(release, "gate")
    data = form.cleaned_data

    def call() -> str:
        decide = decisions.approve if data["decision"] == "approve" else decisions.reject
        decide(
            request.user,
            release.pk,
            step=data["step"],
            comment=data["comment"],
            checks=data["checks"],
            on_behalf_of=data["on_behalf_of"],
        )
        if data["decision"] == "approve":
            return _("Your approval is recorded.")
        return _("Your rejection is recorded; the release went back.")

    run_service(request, call)
    return back_to(release, "gate")


@login_required
@require_POST
def release_deliverable(request: HttpRequest, number: str) -> HttpResponse:
    """Upload a file or add a link as a new version of a deliverable."""
    release = get_release(request.user, number)
    process, _variant = services.flow_of(release)
    choices = [(key, pick(label, get_language())) for key, label in process.deliverables.items()]
    form = DeliverableForm(request.POST, request.FILES, deliverables=choices)
    if not form.is_valid():
        flash_form_errors(request, form)
        return back_to(release, "deliverables")

    def call() -> str:
        data = form.cleaned_data
        version = services.add_deliverable(
            request.user,
            release.pk,
            key=data["key"],
            upload=data["file"],
            url=data["url"],
            note=data["note"],
        )
        return _("Version %(version)d of '%(deliverable)s' is added.") % {
            "version": version.number,
            "deliverable": dict(choices).get(data["key"], data["key"]),
        }

    run_service(request, call)
    return back_to(release, "deliverables")


@login_required
@require_POST
def release_comment(request: HttpRequest, number: str) -> HttpResponse:
    """Add a comment to a release."""
    release = get_release(request.user, number)
    form = CommentForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return back_to(release, "comments")

    def call() -> str:
        services.add_comment(request.user, release.pk, body=form.cleaned_data["body"])
        return _("Your comment is added.")

    run_service(request, call)
    return back_to(release, "comments")


@login_required
@require_POST
def release_items(request: HttpRequest, number: str) -> HttpResponse:
    """Add or remove a configuration item the release touches (by name or `type:name`)."""
    return change_scope(
        request,
        number,
        field="item",
        label=_("Configuration item"),
        service=services.change_items,
        added=_("Release %(number)s now touches %(item)s."),
        removed=_("Release %(number)s no longer touches %(item)s."),
        anchor="cmdb",
    )


@login_required
@require_POST
def release_teams(request: HttpRequest, number: str) -> HttpResponse:
    """Add a department to those the release involves, or remove one added by hand."""
    return change_scope(
        request,
        number,
        field="team",
        label=_("Department"),
        service=services.change_teams,
        added=_("Release %(number)s now involves %(team)s."),
        removed=_("Release %(number)s no longer involves %(team)s."),
        anchor="cmdb",
    )


@login_required
@require_POST
def release_review_impact(request: HttpRequest, number: str) -> HttpResponse:
    """Confirm the release's impact list as it is now."""
    release = get_release(request.user, number)
    note = (request.POST.get("note") or "").strip()[:2000]

    def call() -> str:
        services.review_impact(request.user, release.pk, note=note)
        return _("You confirmed the impact of release %s.") % release.number

    run_service(request, call)
    return back_to(release, "cmdb")


@login_required
@require_POST
def release_record_versions(request: HttpRequest, number: str) -> HttpResponse:
    """Record the release's version on every item it touches (the CMDB update)."""
    release = get_release(request.user, number)

    def call() -> str:
        changed = services.record_deployed(request.user, release.pk)
        return _("The CMDB now shows this release's version on %d item(s).") % len(changed)

    run_service(request, call)
    return back_to(release, "cmdb")
