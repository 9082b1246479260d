"""Notification endpoints: the outbox (administrators) and one's subscriptions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from relman.core.api import ERRORS, WRITE_ERRORS
from relman.core.ids import Id
from relman.notifications import services
from relman.notifications.filters import OutboxFilters
from relman.notifications.schemas import (
    MessageOut,
    OutboxPage,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)

router = Router(tags=["notifications"])


@router.get("/outbox", response={200: OutboxPage, **ERRORS}, summary="The notification outbox")
def list_outbox(request: HttpRequest, filters: Query[OutboxFilters]) -> dict[str, Any]:
    """Messages newest first, filtered (status `unsent`: pending, sending and failed).
    Administrators only."""
    rows, next_before = filters.page(services.outbox(request.user))
    return {"items": rows, "next": next_before}


@router.post(
    "/outbox/{uuid}/retry",
    response={200: MessageOut, **WRITE_ERRORS},
    summary="Send a failed notification again",
)
def retry_message(request: HttpRequest, uuid: str) -> Any:
    """Queues the message now with a fresh set of attempts. Administrators only; a sent
    message is refused (409): it is never sent twice."""
    return services.retry(request.user, uuid)


@router.get(
    "/subscriptions", response={200: list[SubscriptionOut], **ERRORS}, summary="Subscriptions"
)
def list_subscriptions(request: HttpRequest) -> Any:
    """Your own subscriptions; administrators see everyone's and the shared ones too."""
    return services.manageable(request.user)


@router.post(
    "/subscriptions",
    response={201: SubscriptionOut, **WRITE_ERRORS},
    summary="Subscribe to events",
)
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Status:
    """Your own subscription, or with `shared` (administrators) a role's or a channel's."""
    data = payload.model_dump()
    shared = data.pop("shared")
    subscription = services.create_subscription(
        request.user, user=None if shared else request.user, **data
    )
    return Status(201, services.get_subscription(request.user, subscription.pk))


@router.patch(
    "/subscriptions/{subscription_id}",
    response={200: SubscriptionOut, **WRITE_ERRORS},
    summary="Change a subscription",
)
def update_subscription(
    request: HttpRequest, subscription_id: Id, payload: SubscriptionPatch
) -> Any:
    changes = payload.model_dump(exclude_unset=True)
    # null clears the application or role; for the other fields it means "unchanged".
    changes = {k: v for k, v in changes.items() if v is not None or k in ("application", "role")}
    services.update_subscription(request.user, subscription_id, **changes)
    return services.get_subscription(request.user, subscription_id)


@router.delete(
    "/subscriptions/{subscription_id}",
    response={204: None, **WRITE_ERRORS},
    summary="Delete a subscription",
)
def delete_subscription(request: HttpRequest, subscription_id: Id) -> Status:
    services.delete_subscription(request.user, subscription_id)
    return Status(204, None)
