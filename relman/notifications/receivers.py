"""How the notifications app reacts to release events (`releases.signals`), connected in
`NotificationsConfig.ready()`. `emit` queues the messages on commit."""

from __future__ import annotations

from typing import Any

from relman.accounts.models import TeamMembership
from relman.cmdb import impact
from relman.cmdb.models import ConfigurationItem
from relman.notifications.services import emit
from relman.releases.choices import Action, Outcome
from relman.releases.models import Release


def affected_services(release: Release) -> tuple[list[str], list[Any]]:
    """The services a release's items reach (those it touches included), by name, and the
    members of their owner teams, heads first: three queries, whatever the graph."""
    touched = list(
        ConfigurationItem.objects.filter(release_items__release=release).values_list(
            "pk", "name", "type__is_service", "owner_team_id"
        )
    )
    services = [(name, team) for _pk, name, is_service, team in touched if is_service]
    services += [
        (a.name, a.owner_team_id)
        for a in impact.affected(pk for pk, *_rest in touched)
        if a.is_service
    ]
    teams = {team for _name, team in services if team is not None}
    members = (
        TeamMembership.objects.filter(team_id__in=teams, user__is_active=True)
        .select_related("user")
        .order_by("-is_head", "user_id")
        if teams
        else []
    )
    return list(dict.fromkeys(name for name, _team in services)), [m.user for m in members]


def announce_move(
    sender: type,
    *,
    release: Release,
    actor: Any,
    action: str,
    variant: Any,
    reason: str = "",
    **kwargs: Any,
) -> None:
    """Tell the people concerned that a release went into deployment (the owner teams of
    the services it affects too), was rolled back, or was closed (succeeded, failed or
    cancelled)."""
    stage = variant.stage(release.stage)
    data = {"stage": release.stage, "reason": reason}
    if action == Action.ADVANCE and stage is not None and stage.deployment:
        services, owners = affected_services(release)
        if services:
            data["services"] = services
        emit("release.deployed", release, actor=actor, data=data, users=owners)
    elif action == Action.ROLLBACK:
        emit("release.rolled_back", release, actor=actor, data=data)
    elif action in (Action.CLOSE, Action.CANCEL):  # a cancelled release is closed too
        event = "release.failed" if release.outcome == Outcome.FAILED else "release.closed"
        emit(event, release, actor=actor, data={**data, "outcome": release.outcome})
