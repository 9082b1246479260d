"""The approver's pages: the inbox of steps to decide (with what is being approved and the
approve and reject forms), and the delegations page.

Reads come from the approval services (`briefing.briefs`, `delegation.delegations_of`); every
write goes through `approvals.services.decisions` or `approvals.services.delegation`. Each page
costs the same number of queries whatever the number of steps or delegations on it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relman.approvals.services import decisions
from relman.approvals.services import delegation as delegations
from relman.approvals.services.briefing import briefs
from relman.core.errors import DomainError
from relman.core.views import flash_form_errors, run_service
from relman.web.forms import DATETIME_INPUT
from relman.web.views import add_errors

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class KeyListField(forms.Field):
    """The keys of the ticked checkboxes of one name (the service says which are valid)."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list[str]:
        keys = [str(v).strip() for v in (value or ()) if str(v).strip()]
        if len(keys) > 100:
            raise forms.ValidationError(gettext_lazy("Too many items."))
        return keys


class ApproveForm(forms.Form):
    """Approve a step: the items confirmed and an optional comment."""

    step = forms.SlugField(label=gettext_lazy("Step"), max_length=64)
    on_behalf_of = forms.CharField(
        label=gettext_lazy("On behalf of"), max_length=150, required=False
    )
    checks = KeyListField(label=gettext_lazy("Checked"), required=False)
    comment = forms.CharField(
        label=gettext_lazy("Comment"), max_length=5000, required=False, widget=forms.Textarea
    )


class RejectForm(forms.Form):
    """Reject a step: the reason is required."""

    step = forms.SlugField(label=gettext_lazy("Step"), max_length=64)
    on_behalf_of = forms.CharField(
        label=gettext_lazy("On behalf of"), max_length=150, required=False
    )
    comment = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=5000,
        widget=forms.Textarea,
        error_messages={"required": gettext_lazy("A rejection needs a reason.")},
    )


class DelegationForm(forms.Form):
    """Have someone stand in while away (an administrator may name who is away)."""

    delegate = forms.CharField(
        label=gettext_lazy("Who stands in (username)"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    starts = forms.DateTimeField(
        label=gettext_lazy("From"), input_formats=DATETIME_FORMATS, widget=DATETIME_INPUT
    )
    ends = forms.DateTimeField(
        label=gettext_lazy("Until"), input_formats=DATETIME_FORMATS, widget=DATETIME_INPUT
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)
    delegator = forms.CharField(
        label=gettext_lazy("Who is away (username)"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("Administrators only; leave empty for yourself."),
    )

    def __init__(self, *args: Any, admin: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not admin:
            del self.fields["delegator"]


# ---------------------------------------------------------------- the inbox


@login_required
def inbox_page(request: HttpRequest) -> HttpResponse:
    """The steps the user may decide now, each with what is being approved."""
    return render(request, "web/inbox.html", {"briefs": briefs(request.user)})


def _back(anchor: str = "") -> HttpResponse:
    url = reverse("web:approvals")
    return redirect(f"{url}#{anchor}" if anchor else url)


@login_required
@require_POST
def approve_step(request: HttpRequest, number: str) -> HttpResponse:
    """Approve a step of the release's current stage, in person or for someone away."""
    form = ApproveForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return _back()
    data = form.cleaned_data

    def call() -> str:
        approval = decisions.approve(
            request.user,
            number,
            step=data["step"],
            comment=data["comment"],
            checks=data["checks"],
            on_behalf_of=data["on_behalf_of"] or None,
        )
        return _("Your approval of %(number)s is recorded.") % {"number": approval.release.number}

    run_service(request, call)
    return _back()


@login_required
@require_POST
def reject_step(request: HttpRequest, number: str) -> HttpResponse:
    """Reject a step: the release goes back to the stage the policy names."""
    form = RejectForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return _back()
    data = form.cleaned_data

    def call() -> str:
        approval = decisions.reject(
            request.user,
            number,
            step=data["step"],
            comment=data["comment"],
            on_behalf_of=data["on_behalf_of"] or None,
        )
        return _("Your rejection of %(number)s is recorded; the release goes back.") % {
            "number": approval.release.number
        }

    run_service(request, call)
    return _back()


# ---------------------------------------------------------------- delegations


@login_required
def delegations_page(request: HttpRequest) -> HttpResponse:
    """The user's delegations (given and received) and the form to add one; a refused one
    comes back with the service's reasons on its fields."""
    admin = delegations.is_admin(request.user)
    form = DelegationForm(request.POST or None, admin=admin)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = delegations.create_delegation(
                request.user,
                delegate=data["delegate"],
                starts=data["starts"],
                ends=data["ends"],
                reason=data["reason"],
                delegator=data.get("delegator") or None,
            )
        except DomainError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(delegate)s stands in for %(delegator)s from %(starts)s until %(ends)s.")
                % {
                    "delegate": made.delegate,
                    "delegator": made.delegator,
                    "starts": _moment(made.starts),
                    "ends": _moment(made.ends),
                },
            )
            return redirect("web:delegations")
    show_all = bool(request.GET.get("all"))
    found = delegations.delegations_of(request.user, include_ended=show_all)
    return render(
        request,
        "web/delegations.html",
        {
            "form": form,
            "admin": admin,
            "sections": [
                {"key": "given", "title": _("Standing in for you"), "rows": found.given},
                {"key": "received", "title": _("You stand in for"), "rows": found.received},
            ],
            "show_all": show_all,
            "now": timezone.now(),
        },
    )


def _moment(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i")


@login_required
@require_POST
def revoke_delegation(request: HttpRequest, delegation_id: int) -> HttpResponse:
    """End a delegation now, or cancel it before it starts."""

    def call() -> str:
        revoked = delegations.revoke_delegation(request.user, delegation_id)
        return _("The delegation to %(delegate)s is revoked.") % {"delegate": revoked.delegate}

    run_service(request, call)
    return redirect("web:delegations")
