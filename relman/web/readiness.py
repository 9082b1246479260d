"""The readiness review page of a release: the release criteria with their evidence, the
go / no-go form, and every review recorded so far. Writes go through
`approvals.services.readiness.record_review`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from relman.approvals.services import readiness
from relman.core.errors import DomainError
from relman.web.scope import get_release

MET, UNMET = "met", "unmet"


class ReadinessForm(forms.Form):
    """A go / no-go decision: per criterion met or not, evidence and a note; then the
    decision (the button pressed) and a note for the whole review. Only reads input; the
    service validates and decides."""

    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[(readiness.GO, gettext_lazy("Go")), (readiness.NO_GO, gettext_lazy("No-go"))],
    )
    note = forms.CharField(
        label=gettext_lazy("Note on the decision"),
        required=False,
        max_length=readiness.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, state: readiness.ReadinessState, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state = state
        deliverables = [("", "—"), *state.deliverables]
        checklist = [("", "—"), *state.checklist]
        present_deliverables = {key for key, _label in state.deliverables}
        ticked = {key for key, _label in state.checklist}
        # A new review starts from the current one's judgements (met or not, and notes).
        earlier = {c.key: c for c in state.latest.criteria} if state.latest else {}
        for criterion in state.criteria:
            key = criterion.key
            before = earlier.get(key)
            suggested = criterion.deliverable.key if criterion.deliverable else ""
            item = criterion.checklist.key if criterion.checklist else ""
            self.fields[f"{key}-met"] = forms.ChoiceField(
                label=criterion.label,
                choices=[(MET, _("Met")), (UNMET, _("Not met"))],
                widget=forms.RadioSelect,
                initial=(MET if before.met else UNMET) if before else None,
            )
            self.fields[f"{key}-deliverable"] = forms.ChoiceField(
                label=_("Evidence: deliverable"),
                choices=deliverables,
                required=False,
                initial=suggested if suggested in present_deliverables else "",
            )
            self.fields[f"{key}-checklist"] = forms.ChoiceField(
                label=_("Evidence: checklist item"),
                choices=checklist,
                required=False,
                initial=item if item in ticked else "",
            )
            self.fields[f"{key}-note"] = forms.CharField(
                label=_("Evidence: note"),
                required=False,
                max_length=readiness.CRITERION_NOTE_MAX,
                initial=before.note if before else "",
            )

    def rows(self) -> list[dict[str, Any]]:
        """One row per criterion: the criterion, its suggested evidence and its fields."""
        return [
            {
                "criterion": c,
                "met": self[f"{c.key}-met"],
                "deliverable": self[f"{c.key}-deliverable"],
                "checklist": self[f"{c.key}-checklist"],
                "note": self[f"{c.key}-note"],
                "errors": [
                    error
                    for suffix in ("met", "deliverable", "checklist", "note")
                    for error in self[f"{c.key}-{suffix}"].errors
                ],
            }
            for c in self.state.criteria
        ]

    def criteria(self) -> dict[str, dict[str, Any]]:
        """The judgements as the service takes them."""
        data = self.cleaned_data
        return {
            c.key: {
                "met": data.get(f"{c.key}-met") == MET,
                "deliverable": data.get(f"{c.key}-deliverable") or None,
                "checklist": data.get(f"{c.key}-checklist") or None,
                "note": data.get(f"{c.key}-note") or "",
            }
            for c in self.state.criteria
            if data.get(f"{c.key}-met") in (MET, UNMET)
        }

    def add_service_errors(self, exc: DomainError) -> None:
        """Put the service's field errors (`criteria.<key>.<part>`) beside their criterion."""
        if not exc.errors:
            self.add_error(None, exc.message)
            return
        for name, problems in exc.errors.items():
            parts = name.split(".")
            target = None
            if parts[0] == "criteria" and len(parts) > 1:
                suffix = parts[2] if len(parts) > 2 else "met"
                candidate = f"{parts[1]}-{suffix}"
                target = candidate if candidate in self.fields else None
            elif name == "note":
                target = "note"
            for problem in problems:
                self.add_error(target, problem)


@login_required
@require_http_methods(["GET", "POST"])
def readiness_page(request: HttpRequest, number: str) -> HttpResponse:
    """The readiness review of a release; POST records a go or no-go decision."""
    release = get_release(request.user, number)
    state = readiness.readiness_state(request.user, release)
    status = 200
    if request.method == "POST":
        form = ReadinessForm(request.POST, state=state)
        if not state.can_decide:
            # The same rule the service applies (readiness.refusal), said before reading input.
            messages.error(request, state.why_not)
            status = 403 if state.applies else 409
        elif form.is_valid():
            try:
                review = readiness.record_review(
                    request.user,
                    release.pk,
                    decision=form.cleaned_data["decision"],
                    criteria=form.criteria(),
                    note=form.cleaned_data["note"],
                )
            except DomainError as exc:
                form.add_service_errors(exc)  # shown beside the criteria they concern
                status = exc.status
            else:
                messages.success(
                    request,
                    _("Readiness decided: go.")
                    if review.decision == readiness.GO
                    else _("Readiness decided: no-go."),
                )
                return redirect("web:release-readiness", number=release.number)
        else:
            messages.error(request, _("Check the marked criteria."))
            status = 400
    else:
        form = ReadinessForm(state=state)
    return render(
        request,
        "web/readiness_page.html",
        {"release": release, "state": state, "form": form, "rows": form.rows()},
        status=status,
    )
