"""The CAB pages: the meetings and the releases waiting for the board (/cab/), and one
meeting (/cab/<id>/) with its agenda, the chair's decision per release, attendance, the
minutes and their PDF.

Reads come from `approvals.services.cab`; every write goes through its services, and a
refusal becomes a message on the page in the words the service chose. Each page costs the
same number of queries whatever the number of meetings, members or releases.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from relman.accounts.choices import BuiltinRole
from relman.accounts.models import RoleAssignment
from relman.approvals import minutes as cab_minutes
from relman.approvals.models import CabAgendaItem, CabMeeting
from relman.approvals.services import cab
from relman.core.errors import DomainError, NotFound
from relman.core.views import flash_form_errors, run_service
from relman.web.forms import DATETIME_INPUT
from relman.web.views import add_errors

User = get_user_model()

STATUS_COLOURS = {
    CabMeeting.PLANNED: "blue",
    CabMeeting.HELD: "green",
    CabMeeting.CANCELLED: "grey",
}
DECISION_COLOURS = {
    CabAgendaItem.APPROVE: "green",
    CabAgendaItem.REJECT: "red",
    CabAgendaItem.DEFER: "orange",
}


def _board() -> list[Any]:
    """The active users who hold `cab_member` anywhere: whom a meeting is usually made of."""
    ids = RoleAssignment.objects.filter(role_id=BuiltinRole.CAB_MEMBER).values("user_id")
    return list(User.objects.filter(is_active=True, pk__in=ids).order_by("username"))


def _name(user: Any) -> str:
    name = str(user)
    return name if name == user.username else f"{name} ({user.username})"


class MeetingForm(forms.Form):
    """A CAB meeting to schedule. The service checks the chair and the members."""

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    starts = forms.DateTimeField(label=gettext_lazy("Starts"), widget=DATETIME_INPUT)
    location = forms.CharField(label=gettext_lazy("Location"), max_length=200, required=False)
    chair = forms.ChoiceField(label=gettext_lazy("Chair"))
    members = forms.MultipleChoiceField(
        label=gettext_lazy("Members"), required=False, widget=forms.CheckboxSelectMultiple
    )
    others = forms.CharField(
        label=gettext_lazy("Also invite"),
        required=False,
        max_length=1000,
        help_text=gettext_lazy("Usernames, separated by commas or spaces."),
    )

    def __init__(self, *args: Any, board: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(u.username, _name(u)) for u in board]
        self.fields["chair"].choices = [("", "—"), *choices]
        self.fields["members"].choices = choices

    def member_names(self) -> list[str]:
        extra = self.cleaned_data.get("others", "").replace(",", " ").split()
        return list(dict.fromkeys([*self.cleaned_data.get("members", []), *extra]))


class DecisionForm(forms.Form):
    release = forms.CharField(max_length=64)
    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=CabAgendaItem.DECISIONS)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=5000, required=False)


class MinutesForm(forms.Form):
    minutes = forms.CharField(label=gettext_lazy("Minutes"), max_length=cab.MAX_MINUTES)


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=5000)


def _meeting(user: Any, meeting_id: int) -> CabMeeting:
    """The meeting if the user may see it, else 404 (never a hint that it exists)."""
    try:
        return cab.get_meeting(user, meeting_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _back(meeting: CabMeeting, anchor: str = "") -> HttpResponse:
    response = redirect("web:cab-detail", meeting_id=meeting.pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


# ---------------------------------------------------------------- the list


@login_required
def cab_list(request: HttpRequest) -> HttpResponse:
    """The meetings the user may see, the releases waiting for the CAB, and (for those who
    may run the CAB) the form that schedules a meeting."""
    can_run = cab.may_run_cab(request.user)
    form = None
    if can_run:
        board = _board()
        initial = {"chair": request.user.username} if request.user in board else {}
        form = MeetingForm(request.POST or None, board=board, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                meeting = cab.schedule_meeting(
                    request.user,
                    data["title"],
                    data["starts"],
                    data["location"],
                    data["chair"],
                    form.member_names(),
                )
            except DomainError as exc:
                add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "The CAB meeting '%(title)s' is scheduled with %(count)d release(s) on its agenda."
                    )
                    % {"title": meeting.title, "count": meeting.agenda.count()},
                )
                return redirect("web:cab-detail", meeting_id=meeting.pk)
    elif request.method == "POST":
        return render(
            request,
            "web/forbidden.html",
            {"message": _("Only CAB members and release managers may run CAB meetings.")},
            status=403,
        )
    meetings = list(cab.meetings_with_counts(request.user))
    for meeting in meetings:
        meeting.colour = STATUS_COLOURS.get(meeting.status, "grey")
    context = {
        "upcoming": [m for m in meetings if m.status == CabMeeting.PLANNED],
        "past": [m for m in meetings if m.status != CabMeeting.PLANNED],
        "waiting": cab.waiting(request.user),
        "form": form,
        "can_run": can_run,
    }
    return render(
        request, "web/cab_list.html", context, status=400 if form and form.errors else 200
    )


# ---------------------------------------------------------------- one meeting


@login_required
def cab_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """A meeting: facts, attendance, the agenda with the chair's decision forms, the
    minutes, and the PDF link."""
    meeting = _meeting(request.user, meeting_id)
    agenda = cab.agenda_of(meeting)
    for item in agenda:
        item.colour = DECISION_COLOURS.get(item.decision, "grey")
        item.window_text = cab_minutes.window_text(item)
    attendance = cab.attendance_of(meeting)
    planned = meeting.status == CabMeeting.PLANNED
    can_run = cab.may_run_cab(request.user)
    is_chair = request.user.pk == meeting.chair_id
    problem = cab.quorum_problem(meeting) if planned else None
    context = {
        "meeting": meeting,
        "colour": STATUS_COLOURS.get(meeting.status, "grey"),
        "agenda": agenda,
        "attendance": attendance,
        "present": sum(1 for row in attendance if row.present),
        "planned": planned,
        "can_run": can_run and planned,
        "can_decide": is_chair and planned,
        "is_chair": is_chair,
        "quorum_problem": problem,
        "undecided": sum(1 for item in agenda if not item.decision),
        "agenda_decided": any(item.decision for item in agenda),
        "language": get_language(),
    }
    return render(request, "web/cab_detail.html", context)


@login_required
@require_POST
def cab_attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Record who attended: the checked members present, the others absent."""
    meeting = _meeting(request.user, meeting_id)
    present = set(request.POST.getlist("present"))
    members = [row.member.username for row in cab.attendance_of(meeting)]

    def call() -> str:
        cab.record_attendance(request.user, meeting.pk, {m: m in present for m in members})
        return _("Attendance recorded.")

    run_service(request, call)
    return _back(meeting, "attendance")


@login_required
@require_POST
def cab_agenda(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Add the releases that came to wait for the CAB since the meeting was scheduled."""
    meeting = _meeting(request.user, meeting_id)

    def call() -> str:
        added = cab.build_agenda(request.user, meeting.pk)
        if not added:
            return _("No other release waits for the CAB.")
        return _("Added to the agenda: %s.") % ", ".join(i.release.number for i in added)

    run_service(request, call)
    return _back(meeting, "agenda")


@login_required
@require_POST
def cab_decide(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The chair records the board's decision on one release of the agenda."""
    meeting = _meeting(request.user, meeting_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return _back(meeting, "agenda")
    data = form.cleaned_data

    def call() -> str:
        item = cab.decide_item(
            request.user, meeting.pk, data["release"], data["decision"], data["reason"]
        )
        return _("The CAB's decision on %(number)s is recorded: %(decision)s.") % {
            "number": item.release.number,
            "decision": item.get_decision_display(),
        }

    run_service(request, call)
    return _back(meeting, "agenda")


@login_required
@require_POST
def cab_close(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Record the minutes and mark the meeting held."""
    meeting = _meeting(request.user, meeting_id)
    form = MinutesForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return _back(meeting, "minutes")

    def call() -> str:
        cab.close_meeting(request.user, meeting.pk, form.cleaned_data["minutes"])
        return _("The meeting is closed and its minutes are recorded.")

    run_service(request, call)
    return _back(meeting, "minutes")


@login_required
@require_POST
def cab_cancel(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Cancel a meeting on which nothing was decided."""
    meeting = _meeting(request.user, meeting_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return _back(meeting)

    def call() -> str:
        cab.cancel_meeting(request.user, meeting.pk, form.cleaned_data["reason"])
        return _("The meeting is cancelled; its releases wait for the next one.")

    run_service(request, call)
    return _back(meeting)


@login_required
def cab_minutes_pdf(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The minutes as a PDF, in the page's language (or ?language=)."""
    meeting = _meeting(request.user, meeting_id)
    language = cab_minutes.language_of(request.GET.get("language") or get_language())
    pdf = cab_minutes.minutes_pdf(request.user, meeting.pk, language)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{cab_minutes.filename(meeting)}"'
    return response
