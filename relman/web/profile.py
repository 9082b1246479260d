"""A user's own page: their language and time zone, their API tokens (made, named, shown once, revoked)
and a way to their notification subscriptions. The language is switched by the top bar's
form (`views.switch_language`), which keeps it on the profile."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from relman.accounts import services as accounts
from relman.accounts.models import ApiToken
from relman.core.errors import DomainError


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Where it is used, e.g. “laptop CLI” or “Jenkins”."),
    )
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"), min_value=1, max_value=3650, initial=90
    )


def zone_choices() -> list[tuple[str, str]]:
    """The organisation's zone first (as ""), then every zone by name."""
    default = _("The organisation's (%s)") % settings.TIME_ZONE
    return [("", default), *((z, z) for z in sorted(available_timezones()))]


def _page(request: HttpRequest, **extra: object) -> HttpResponse:
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created")[:100]
    context = {
        "tokens": tokens,
        "token_form": TokenForm(initial={"days": settings.RELMAN_TOKEN_DAYS}),
        "zones": zone_choices(),
        **extra,
    }
    return render(request, "web/profile.html", context)


@require_GET
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@login_required
def create_token(request: HttpRequest) -> HttpResponse:
    """Make a token and show its secret on this answer only: it is never stored in the
    session or a message, and cannot be shown again."""
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, secret = accounts.create_token(
                request.user,
                request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            response = _page(request, new_token=token, secret=secret)
            response["Cache-Control"] = "no-store"
            return response
    return _page(request, token_form=form)


@require_POST
@login_required
def set_time_zone(request: HttpRequest) -> HttpResponse:
    """Keep the time zone the user reads times in; the pages use it from the next one."""
    try:
        user = accounts.set_time_zone(request.user, request.user, request.POST.get("time_zone", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Times are now shown in %s.") % user.zone)
    return redirect("web:profile")


@require_POST
@login_required
def revoke_token(request: HttpRequest, prefix: str) -> HttpResponse:
    try:
        token = accounts.revoke_token(request.user, prefix)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The token “%s” was revoked; it no longer works.") % token.name)
    return redirect("web:profile")
