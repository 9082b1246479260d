"""The Celery application. Tasks live in each app's tasks.py and take ids, never objects."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relman.settings")

app = Celery("relman")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_contexts: dict[str, Any] = {}


@task_prerun.connect
def _enter_worker_context(task_id: str, task: Any, **_kwargs: Any) -> None:
    """Everything a task changes is recorded in the audit log as done by the worker."""
    from relman.core.choices import Channel
    from relman.core.context import acting_through

    manager = acting_through(Channel.WORKER, task_id.replace("-", "")[:64])
    manager.__enter__()
    _contexts[task_id] = manager


@task_postrun.connect
def _leave_worker_context(task_id: str, **_kwargs: Any) -> None:
    manager = _contexts.pop(task_id, None)
    if manager is not None:
        manager.__exit__(None, None, None)
