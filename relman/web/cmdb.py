"""The CMDB pages: the browser (`ci_list`) and a configuration item's page (`ci_detail`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from relman.accounts.models import Team
from relman.cmdb.models import CIType, ConfigurationItem, DeployedVersion, Environment, Relationship
from relman.releases.filters import decode_cursor, encode_cursor
from relman.releases.models import ReleaseItem
from relman.releases.services import scope
from relman.web.graph import Neighbour, layout

R = Relationship.Kind
# A relationship seen from the other side: what the item on the far end is to this one.
CONTAINS = gettext_lazy("contains")
# Kinds whose source relies on the target (so the source sits above it).
RELIES = {R.DEPENDS_ON, R.RUNS_ON, R.CONNECTS_TO}


def ci_url(pk: int) -> str:
    return reverse("web:ci-detail", args=[pk])


def neighbours(ci: ConfigurationItem) -> tuple[list[Neighbour], list[Neighbour]]:
    """The items above `ci` (a change to it reaches them) and below it (it relies on them),
    in two queries."""
    above, below = [], []
    incoming = ci.incoming.select_related("source__type").order_by("kind", "source__name")
    for rel in incoming:
        other = rel.source
        item = Neighbour(
            other.pk,
            other.name,
            other.type.name,
            rel.get_kind_display() if rel.kind in RELIES else str(CONTAINS),
            ci_url(other.pk),
        )
        (above if rel.kind in RELIES else below).append(item)
    outgoing = ci.outgoing.select_related("target__type").order_by("kind", "target__name")
    for rel in outgoing:
        other = rel.target
        item = Neighbour(
            other.pk, other.name, other.type.name, rel.get_kind_display(), ci_url(other.pk)
        )
        (below if rel.kind in RELIES else above).append(item)
    return above, below


def hop(kind: str) -> dict[str, Any]:
    """A hop of an impact path as the page reads it, left to right from the changed item:
    the relationship's own words, and whether its arrow points back (`leasing-prod depends
    on payment-prod` is drawn `payment-prod ← depends on ← leasing-prod`); a `^` kind is
    read from the nearer item (`payment-prod → is part of → payment-service`)."""
    return {"via": R(kind.lstrip("^")).label, "back": not kind.startswith("^")}


def impact_rows(rows: list[Any]) -> list[dict[str, Any]]:
    """Impact rows (`releases.services.scope.ImpactRow`) as the pages draw them: each
    item with its path as linked names and the hop that led to each."""
    return [
        {
            "row": row,
            "path": [
                {"id": pk, "name": name, **(hop(row.via[i - 1]) if i else {"via": ""})}
                for i, (pk, name) in enumerate(zip(row.path_ids, row.path, strict=True))
            ],
        }
        for row in rows
    ]


PAGE_SIZE = 50


def _filtered(query: Any) -> tuple[Any, dict[str, str]]:
    """The CIs matching the browser's filters (unknown values match nothing)."""
    values = {
        name: (query.get(name) or "").strip()[:200]
        for name in ("type", "team", "environment", "status", "q")
    }
    rows = ConfigurationItem.objects.select_related("type", "owner_team", "environment")
    if values["type"]:
        rows = rows.filter(type__code=values["type"])
    if values["team"]:
        rows = rows.filter(owner_team__code=values["team"])
    if values["environment"]:
        rows = rows.filter(environment__code=values["environment"])
    if values["status"]:
        rows = rows.filter(status=values["status"])
    if values["q"]:
        rows = rows.filter(name__icontains=values["q"])
    return rows, values


@require_GET
@login_required
def ci_list(request: HttpRequest) -> HttpResponse:
    """The CMDB browser: filters, and a keyset page of 50 items by name."""
    rows, values = _filtered(request.GET)
    problems = []
    after = request.GET.get("after") or ""
    if after:
        try:
            name, last_id = decode_cursor(after, scope="cmdb")
            rows = rows.filter(Q(name__gt=name) | Q(name=name, id__gt=last_id))
        except ValueError:
            problems.append(_("That page link is not valid; the first page is shown."))
    page = list(rows.order_by("name", "id")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    query = {k: v for k, v in values.items() if v}
    next_query = (
        urlencode({**query, "after": encode_cursor(page[-1].name, page[-1].pk, "cmdb")})
        if more
        else ""
    )
    return render(
        request,
        "web/ci_list.html",
        {
            "rows": page,
            "values": values,
            "problems": problems,
            "next_query": next_query,
            "first_query": urlencode(query) if after else None,
            "types": CIType.objects.order_by("name"),
            "teams": Team.objects.filter(is_active=True).order_by("name"),
            "environments": Environment.objects.order_by("order", "code"),
            "statuses": ConfigurationItem.Status.choices,
        },
    )


@require_GET
@login_required
def ci_search(request: HttpRequest) -> HttpResponse:
    """Up to 20 items whose name holds the text, as `<option>`s for a search box's list."""
    text = (request.GET.get("q") or request.GET.get("item") or "").strip()[:200]
    rows = (
        ConfigurationItem.objects.filter(name__icontains=text).select_related("type")
        if len(text) >= 2
        else ConfigurationItem.objects.none()
    )
    return render(request, "web/_ci_options.html", {"rows": rows.order_by("name", "id")[:20]})


@require_GET
@login_required
def ci_detail(request: HttpRequest, ci_id: int) -> HttpResponse:
    ci = (
        ConfigurationItem.objects.select_related("type", "owner_team", "environment", "application")
        .filter(pk=ci_id)
        .first()
    )
    if ci is None:
        raise Http404
    above, below = neighbours(ci)
    versions = (
        DeployedVersion.objects.filter(ci=ci)
        .select_related("application", "release", "previous")
        .order_by("-installed", "-id")[:100]
    )
    touched_by = (
        ReleaseItem.objects.filter(ci=ci)
        .select_related("release__application")
        .order_by("-release_id")[:50]
    )
    return render(
        request,
        "web/ci_detail.html",
        {
            "ci": ci,
            "above": above,
            "below": below,
            "graph": layout(ci.name, ci.type.name, above, below),
            "versions": versions,
            "current": [v for v in versions if v.removed is None],
            "touched_by": touched_by,
            "impact": impact_rows(scope.item_impact(ci)),
            "attributes": sorted((ci.attributes or {}).items()),
        },
    )
