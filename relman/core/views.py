"""What every app's pages share: calling a service and flashing its outcome, and a form's
errors as messages. Used by `web` and by the apps that serve pages of their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from relman.core.errors import Conflict, DomainError, GateNotMet


def run_service(request: HttpRequest, call: Callable[[], str]) -> None:
    """Call a service; flash its success sentence or its refusal."""
    try:
        done = call()
    except Conflict as exc:
        messages.warning(
            request, f"{exc.message} {_('This page now shows the latest state; check it.')}"
        )
    except GateNotMet as exc:
        messages.error(request, "\n".join([_("The gate of this stage is not met:"), *exc.unmet]))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)


def flash_form_errors(request: HttpRequest, form: Any) -> None:
    """A form's errors as messages that name the field."""
    for name, problems in form.errors.items():
        field = form.fields.get(name)
        for problem in problems:
            if field is not None and field.label:
                messages.error(request, f"{field.label}: {problem}")
            else:
                messages.error(request, problem)
