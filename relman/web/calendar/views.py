"""The release calendar pages: month, week and list views of window occurrences, freezes
and scheduled releases, with the conflicts of the visible range, and the forms that schedule,
move or unschedule a release (on the calendar and on the release page).

Reads come straight from the models and the calendar's read-only services; every write goes
through `calendar.services.scheduling`. A page costs the same number of queries whatever the
number of releases in it: occurrences are expanded in Python, capacity is one aggregate, and
which windows fit a release is decided in Python from windows already read.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relman.calendar.models import ReleaseSchedule, ReleaseWindow
from relman.calendar.services import conflicts as conflict_services
from relman.calendar.services import scheduling
from relman.calendar.services import windows as window_services
from relman.calendar.services.freezes import freezes_between
from relman.cmdb.models import Application, Environment
from relman.core.views import flash_form_errors, run_service
from relman.releases import access
from relman.releases.choices import Method
from relman.releases.models import Release
from relman.web.calendar.grid import (
    MOST_OPTIONS,
    MOVE_AFTER,
    MOVE_BEFORE,
    PANEL_AHEAD,
    VIEWS,
    CalendarQuery,
    Day,
    FreezeBand,
    Option,
    ReleaseEntry,
    agenda,
    assign_lanes,
    band_option,
    bands_of,
    colour_of,
    conflict_view,
    current_value,
    end_of,
    ignored,
    parse_occurrence,
    schedule_of,
    split_by_day,
    title_of,
    when_label,
)
from relman.web.scope import get_release

# ---------------------------------------------------------------- the page


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    """The calendar: windows, freezes and the releases the user may see, in a month, a week
    or a list, with the range's conflicts listed first."""
    today = timezone.localdate()
    query, problems = CalendarQuery.parse(request.GET, today)
    applications = list(Application.objects.order_by("code").only("pk", "code", "name"))
    environments = list(Environment.objects.all())
    teams = sorted(set(ReleaseWindow.objects.exclude(team="").values_list("team", flat=True)))
    application = next((a for a in applications if a.code == query.application), None)
    environment = next((e for e in environments if e.code == query.environment), None)
    if query.application and application is None:
        problems.append(ignored(query.application, _("Application")))
    if query.environment and environment is None:
        problems.append(ignored(query.environment, _("Environment")))
    query = CalendarQuery(
        day=query.day,
        view=query.view,
        application=application.code if application else "",
        environment=environment.code if environment else "",
        team=query.team,
    )
    first, after = query.span()
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(after, time.min, tzinfo=zone)
    now = timezone.now()

    windows = list(
        window_services.applicable_windows(
            application=application, environment=environment, team=query.team or None
        )
    )
    move_from, move_to = max(now, start - MOVE_BEFORE), max(now, end) + MOVE_AFTER
    pairs = window_services.occurrences_between(
        min(start, move_from), max(end, move_to), windows=windows
    )
    bands = bands_of(pairs, scheduling.places_taken(pairs))
    shown = [b for b in bands if b.start < end and b.end > start]
    movable = [b for b in bands if move_from <= b.start < move_to]
    freezes = [
        FreezeBand(f, f.starts, f.ends)
        for f in freezes_between(start, end, application=application, environment=environment)
    ]

    releases = (
        access.visible_releases(request.user)
        .filter(planned_start__isnull=False, planned_start__lt=end)
        .filter(Q(planned_end__gt=start) | Q(planned_end__isnull=True, planned_start__gte=start))
        .select_related("application", "environment", "requester", "schedule__window")
        .order_by("planned_start", "number")
    )
    if application:
        releases = releases.filter(application=application)
    if environment:
        releases = releases.filter(environment=environment)
    if query.team:
        releases = releases.filter(requester__department=query.team)
    releases = list(releases)

    numbers = {r.number for r in releases}
    conflicts = [
        c
        for c in conflict_services.find_conflicts(
            start, end, application=application, environment=environment
        )
        if numbers & set(c.release_numbers)
    ]
    by_number: dict[str, list[Any]] = defaultdict(list)
    for conflict in conflicts:
        for number in conflict.release_numbers:
            by_number[number].append(conflict)

    entries = []
    for release in releases:
        release.calendar_schedule = schedule_of(release)
        colour, label = colour_of(release)
        entry = ReleaseEntry(
            release,
            release.planned_start,
            end_of(release),
            colour,
            label,
            by_number.get(release.number, []),
            can_move=access.can_edit(request.user, release),
        )
        if entry.can_move:
            current = current_value(release)
            entry.options = [
                band_option(b, current)
                for b in movable
                if window_services.covers(b.window, release)
            ][:MOST_OPTIONS]
        entries.append(entry)

    days = {
        first + timedelta(days=n): Day(
            first + timedelta(days=n),
            (first + timedelta(days=n)).month == query.day.month or query.view == "week",
            first + timedelta(days=n) == today,
        )
        for n in range((after - first).days)
    }
    for item in [*freezes, *shown, *entries]:
        split_by_day(item, item.start, item.end, days)
    for day in days.values():
        assign_lanes(day.releases)
        assign_lanes(day.windows)
    ordered = list(days.values())
    context = {
        "query": query,
        "problems": problems,
        "title": title_of(query, first, after),
        "views": [(key, label, query.url(view=key)) for key, label in VIEWS.items()],
        "previous_url": query.url(date=query.step(False)),
        "next_url": query.url(date=query.step(True)),
        "today_url": query.url(date=today),
        "applications": applications,
        "environments": environments,
        "teams": teams,
        "weeks": [ordered[i : i + 7] for i in range(0, len(ordered), 7)],
        "days": ordered,
        "weekdays": [formats.date_format(first + timedelta(days=n), "D") for n in range(7)],
        "hours": [f"{h:02d}:00" for h in range(24)],
        "entries": entries,
        "agenda": agenda(ordered),
        "conflicts": [conflict_view(c) for c in conflicts],
        "here": request.get_full_path(),
    }
    return render(request, f"web/calendar_{query.view}.html", context)


# ---------------------------------------------------------------- scheduling a release


class ScheduleForm(forms.Form):
    """A release into a window occurrence, or (an emergency) into explicit times with a
    reason. The service decides whether that is allowed."""

    revision = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    occurrence = forms.CharField(label=gettext_lazy("Window"), required=False, max_length=100)
    start = forms.DateTimeField(label=gettext_lazy("Start"), required=False)
    end = forms.DateTimeField(label=gettext_lazy("End"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Why outside a window"), required=False, max_length=2000
    )
    next = forms.CharField(required=False, max_length=2000)

    def clean_occurrence(self) -> tuple[int, datetime] | None:
        """The picked occurrence as (window id, start), or None when none was picked."""
        value = self.cleaned_data.get("occurrence") or ""
        if not value:
            return None
        try:
            return parse_occurrence(value)
        except ValueError as exc:
            raise forms.ValidationError(_("Pick a window occurrence from the list.")) from exc

    def clean(self) -> dict[str, Any]:
        """An occurrence or a start time is needed; which one is allowed is the service's call."""
        data = super().clean()
        if not self.errors and not data.get("occurrence") and not data.get("start"):
            raise forms.ValidationError(
                _("Pick a window occurrence, or give a start time for an emergency.")
            )
        return data


class UnscheduleForm(forms.Form):
    """Taking a release off the calendar, with the reason."""

    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000)
    next = forms.CharField(required=False, max_length=2000)


def back(request: HttpRequest, release: Release, given: str | None) -> HttpResponse:
    """Back where the form was (the calendar or the release page), never to another site."""
    if given and url_has_allowed_host_and_scheme(
        given, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(given)
    return redirect(reverse("web:release-detail", kwargs={"number": release.number}) + "#schedule")


@login_required
@require_POST
def schedule_release(request: HttpRequest, number: str) -> HttpResponse:
    """Schedule or move a release (from the calendar or its page) through the service."""
    release = get_release(request.user, number)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return back(request, release, request.POST.get("next"))
    data = form.cleaned_data
    moving = ReleaseSchedule.objects.filter(release=release).exists()

    def call() -> str:
        if data["occurrence"]:
            window_id, start = data["occurrence"]
            done = scheduling.schedule_release(
                request.user,
                release.pk,
                start=start,
                window_id=window_id,
                revision=data["revision"],
            )
        else:
            done = scheduling.schedule_release(
                request.user,
                release.pk,
                start=data["start"],
                end=data["end"],
                outside_window_reason=data["reason"],
                revision=data["revision"],
            )
        scheduled = done.release
        sentence = (
            _("Release %(number)s is moved to %(when)s.")
            if moving
            else _("Release %(number)s is scheduled for %(when)s.")
        )
        return sentence % {
            "number": release.number,
            "when": when_label(scheduled.planned_start, scheduled.planned_end),
        }

    run_service(request, call)
    return back(request, release, data.get("next"))


@login_required
@require_POST
def unschedule_release(request: HttpRequest, number: str) -> HttpResponse:
    """Take a release off the calendar through the service; the reason is recorded."""
    release = get_release(request.user, number)
    form = UnscheduleForm(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return back(request, release, request.POST.get("next"))

    def call() -> str:
        scheduling.unschedule(request.user, release.pk, reason=form.cleaned_data["reason"])
        return _("Release %s is no longer scheduled.") % release.number

    run_service(request, call)
    return back(request, release, form.cleaned_data.get("next"))


# ---------------------------------------------------------------- the release page's panel


def schedule_panel(user: Any, release: Release) -> dict[str, Any]:
    """What the release page's "Schedule" panel shows: where the release is scheduled, its
    conflicts, and (for those who may change it) the next occurrences it fits."""
    schedule = ReleaseSchedule.objects.filter(release=release).select_related("window").first()
    release.calendar_schedule = schedule
    can_edit = access.can_edit(user, release)
    options: list[Option] = []
    if can_edit:
        now = timezone.now()
        pairs = window_services.occurrences_between(
            now, now + PANEL_AHEAD, windows=window_services.windows_for_release(release)
        )[:MOST_OPTIONS]
        current = current_value(release)
        options = [band_option(b, current) for b in bands_of(pairs, scheduling.places_taken(pairs))]
    conflicts = conflict_services.conflicts_for_release(release)
    day = timezone.localtime(release.planned_start).date() if release.planned_start else None
    calendar_url = (
        reverse("web:calendar")
        + "?"
        + urlencode(
            {"application": release.application.code, **({"date": day.isoformat()} if day else {})}
        )
    )
    return {
        "release": release,
        "schedule": schedule,
        "can_edit": can_edit,
        "options": options,
        "emergency": release.method == Method.EMERGENCY,
        "project_time": scheduling.project_sets_time(release),
        "conflicts": [conflict_view(c) for c in conflicts],
        "when": when_label(release.planned_start, release.planned_end or release.planned_start)
        if release.planned_start
        else "",
        "calendar_url": calendar_url,
    }
