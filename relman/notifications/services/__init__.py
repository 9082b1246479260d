"""The notification services: the only code that writes the outbox and the subscriptions.

`emit` is called by other apps' services inside their transaction; `retry` and the
subscription services by the pages, the API and the command line; `delivery` by the tasks.
"""

from relman.notifications.services.outbox import (
    emit,
    get_message,
    outbox,
    queue,
    recipients,
    retry,
)
from relman.notifications.services.subscriptions import (
    create_subscription,
    delete_subscription,
    get_subscription,
    manageable,
    subscriptions_of,
    update_subscription,
)

__all__ = [
    "create_subscription",
    "delete_subscription",
    "emit",
    "get_message",
    "get_subscription",
    "manageable",
    "outbox",
    "queue",
    "recipients",
    "retry",
    "subscriptions_of",
    "update_subscription",
]
