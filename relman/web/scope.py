"""What the release page's forms share: finding the release (404 when the user may not
see it), going back to a part of its page, and adding or removing one thing it names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from relman.core.errors import NotFound
from relman.core.views import flash_form_errors, run_service
from relman.releases import access
from relman.releases.models import Release


def get_release(user: Any, number: str) -> Release:
    """The release if the user may see it, else 404 (never a hint that it exists)."""
    try:
        return access.get_visible(user, number)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def back_to(release: Release, anchor: str = "") -> HttpResponse:
    url = reverse("web:release-detail", kwargs={"number": release.number})
    return redirect(f"{url}#{anchor}" if anchor else url)


def change_scope(
    request: HttpRequest,
    number: str,
    *,
    field: str,
    label: str,
    service: Callable[..., Any],
    added: str,
    removed: str,
    anchor: str,
) -> HttpResponse:
    """Add or remove one thing a release names (an item it touches, a department it
    involves, a change it carries) through `service`, at the revision the form carries; the
    message says which (`added` / `removed`, with %(number)s and %(<field>)s)."""
    release = get_release(request.user, number)
    form_class = type(
        "ScopeForm",
        (forms.Form,),
        {
            "how": forms.ChoiceField(choices=[("add", "add"), ("remove", "remove")]),
            field: forms.CharField(label=label, max_length=250),
            "revision": forms.IntegerField(min_value=1),
        },
    )
    form = form_class(request.POST)
    if not form.is_valid():
        flash_form_errors(request, form)
        return back_to(release, anchor)
    data = form.cleaned_data

    def call() -> str:
        service(request.user, release.pk, data["how"], [data[field]], revision=data["revision"])
        words = {"number": release.number, field: data[field]}
        return (added if data["how"] == "add" else removed) % words

    run_service(request, call)
    return back_to(release, anchor)
