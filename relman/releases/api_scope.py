"""What a release touches in the CMDB: its items, the departments added by hand, its
impact and the impact review, and the deployed versions it records."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from relman.cmdb.models import DeployedVersion
from relman.core.api import ERRORS, WRITE_ERRORS
from relman.releases import access
from relman.releases.models import ImpactReview, ReleaseItem, ReleaseTeam
from relman.releases.schemas import (
    DeployedIn,
    DeployedVersionOut,
    ImpactReviewIn,
    InvolvedTeamOut,
    ItemsIn,
    ReleaseImpactOut,
    TeamsIn,
    TouchedItemOut,
)
from relman.releases.services import deployed, scope

router = Router(tags=["releases"])


def _items(release: Any) -> list[dict[str, Any]]:
    rows = (
        ReleaseItem.objects.filter(release=release)
        .select_related("ci__type", "ci__owner_team", "added_by")
        .order_by("ci__name", "ci_id")
    )
    return [
        {
            "id": row.ci_id,
            "name": row.ci.name,
            "type": row.ci.type.code,
            "type_name": row.ci.type.name,
            "is_service": row.ci.type.is_service,
            "owner_team": row.ci.owner_team.name if row.ci.owner_team_id else None,
            "added_by": row.added_by.username,
            "created": row.created,
        }
        for row in rows
    ]


def _teams(release: Any) -> list[dict[str, Any]]:
    rows = (
        ReleaseTeam.objects.filter(release=release)
        .select_related("team", "added_by")
        .order_by("team__code")
    )
    return [
        {
            "code": row.team.code,
            "name": row.team.name,
            "added_by": row.added_by.username,
            "created": row.created,
        }
        for row in rows
    ]


@router.get(
    "/{ref}/items",
    response={200: list[TouchedItemOut], **ERRORS},
    summary="The configuration items a release touches",
)
def list_items(request: HttpRequest, ref: str) -> Any:
    return _items(access.get_visible(request.user, ref))


def _change_items(request: HttpRequest, ref: str, how: str, payload: ItemsIn) -> Any:
    release = scope.change_items(request.user, ref, how, payload.items, revision=payload.revision)
    return _items(release)


@router.put(
    "/{ref}/items",
    response={200: list[TouchedItemOut], **WRITE_ERRORS},
    summary="Set the configuration items a release touches",
)
def set_items(request: HttpRequest, ref: str, payload: ItemsIn) -> Any:
    return _change_items(request, ref, scope.SET, payload)


@router.post(
    "/{ref}/items",
    response={200: list[TouchedItemOut], **WRITE_ERRORS},
    summary="Add configuration items a release touches",
)
def add_items(request: HttpRequest, ref: str, payload: ItemsIn) -> Any:
    return _change_items(request, ref, scope.ADD, payload)


@router.delete(
    "/{ref}/items",
    response={200: list[TouchedItemOut], **WRITE_ERRORS},
    summary="Remove configuration items from those a release touches",
)
def remove_items(request: HttpRequest, ref: str, payload: ItemsIn) -> Any:
    return _change_items(request, ref, scope.REMOVE, payload)


@router.get(
    "/{ref}/teams",
    response={200: list[InvolvedTeamOut], **ERRORS},
    summary="The departments added by hand to a release",
)
def list_teams(request: HttpRequest, ref: str) -> Any:
    return _teams(access.get_visible(request.user, ref))


def _change_teams(request: HttpRequest, ref: str, how: str, payload: TeamsIn) -> Any:
    release = scope.change_teams(request.user, ref, how, payload.teams, revision=payload.revision)
    return _teams(release)


@router.put(
    "/{ref}/teams",
    response={200: list[InvolvedTeamOut], **WRITE_ERRORS},
    summary="Set the departments added by hand to a release",
)
def set_teams(request: HttpRequest, ref: str, payload: TeamsIn) -> Any:
    return _change_teams(request, ref, scope.SET, payload)


@router.post(
    "/{ref}/teams",
    response={200: list[InvolvedTeamOut], **WRITE_ERRORS},
    summary="Add departments involved in a release",
)
def add_teams(request: HttpRequest, ref: str, payload: TeamsIn) -> Any:
    return _change_teams(request, ref, scope.ADD, payload)


@router.delete(
    "/{ref}/teams",
    response={200: list[InvolvedTeamOut], **WRITE_ERRORS},
    summary="Remove departments added by hand to a release",
)
def remove_teams(request: HttpRequest, ref: str, payload: TeamsIn) -> Any:
    return _change_teams(request, ref, scope.REMOVE, payload)


def _review(review: ImpactReview | None, found: scope.ReleaseImpact) -> dict[str, Any] | None:
    if review is None:
        return None
    return {
        "reviewer": review.reviewer.username,
        "roles": review.roles,
        "touched": review.touched,
        "affected": review.affected,
        "note": review.note,
        "created": review.created,
        "current": sorted(review.touched) == found.touched_ids
        and sorted(review.affected) == found.affected_ids,
    }


def _row(row: scope.ImpactRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "type": row.type_code,
        "type_name": row.type_name,
        "is_service": row.is_service,
        "owner_team": row.owner_team,
        "depth": row.depth,
        "path": list(row.path),
        "via": list(row.via),
    }


def _impact(found: scope.ReleaseImpact) -> dict[str, Any]:
    return {
        "release": found.release.number,
        "revision": found.release.revision,
        "touched": [_row(r) for r in found.touched],
        "affected": [_row(r) for r in found.affected],
        "owner_teams": found.owner_teams,
        "departments": found.departments,
        "review": _review(found.review, found),
    }


@router.get(
    "/{ref}/impact",
    response={200: ReleaseImpactOut, **ERRORS},
    summary="What a release touches and every item and service depending on those",
)
def get_impact(request: HttpRequest, ref: str) -> Any:
    """Each affected item with the path that explains it (names, and the relationship of
    each hop), its owner team and whether it is a service; and the live impact review."""
    return _impact(scope.release_impact(request.user, ref))


@router.post(
    "/{ref}/impact/review",
    response={201: ReleaseImpactOut, **WRITE_ERRORS},
    summary="Confirm the impact of a release as it is now",
)
def review_impact(request: HttpRequest, ref: str, payload: ImpactReviewIn) -> Status:
    """The reviewer holds the role the stage's `impact_reviewed` gate names and is not the
    requester; changing the items voids the review."""
    review = scope.review_impact(request.user, ref, note=payload.note)
    return Status(201, _impact(scope.release_impact(request.user, review.release)))


def _versions(release: Any) -> list[dict[str, Any]]:
    rows = (
        DeployedVersion.objects.filter(ci__release_items__release=release)
        .select_related("ci", "application", "release")
        .order_by("ci__name", "-installed", "-id")
    )
    return [
        {
            "ci": row.ci.name,
            "application": row.application.code,
            "version": row.version,
            "release": row.release.number if row.release_id else None,
            "installed": row.installed,
            "removed": row.removed,
            "note": row.note,
        }
        for row in rows
    ]


@router.get(
    "/{ref}/deployed-versions",
    response={200: list[DeployedVersionOut], **ERRORS},
    summary="The version history of the items a release touches",
)
def list_versions(request: HttpRequest, ref: str) -> Any:
    return _versions(access.get_visible(request.user, ref))


@router.post(
    "/{ref}/deployed-versions",
    response={200: list[DeployedVersionOut], **WRITE_ERRORS},
    summary="Record the release's version on the items it touches",
)
def record_versions(request: HttpRequest, ref: str, payload: DeployedIn) -> Any:
    """The release's application at `version` (by default its version number) becomes
    current on the items named (by default all it touches); the history keeps the rest."""
    deployed.record_deployed(
        request.user, ref, items=payload.items, version=payload.version, note=payload.note
    )
    return _versions(access.get_visible(request.user, ref))
