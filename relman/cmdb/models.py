"""Applications and environments: the things releases change and where they land."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from relman.core.models import TimestampedModel


class Application(TimestampedModel):
    """An application or system that releases change. It chooses the process they follow."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    process_name = models.SlugField(
        _("process"), max_length=64, help_text=_("The process its releases follow.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Environment(TimestampedModel):
    """A place releases are deployed to, such as test, staging or production."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_production = models.BooleanField(_("production"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("environment")
        verbose_name_plural = _("environments")

    def __str__(self) -> str:
        return self.name
