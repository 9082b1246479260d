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


class CIType(TimestampedModel):
    """A kind of configuration item (application, server, database, ...) with the JSON Schema
    its items' attributes must satisfy. Organisations add their own next to the built-in ones."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    schema = models.JSONField(
        _("attribute schema"), default=dict, blank=True, help_text=_("A JSON Schema object.")
    )
    is_service = models.BooleanField(
        _("service"), default=False, help_text=_("Its items are services people use.")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("configuration item type")
        verbose_name_plural = _("configuration item types")

    def __str__(self) -> str:
        return self.name


class ConfigurationItem(TimestampedModel):
    """Something the organisation runs and releases change: a server, a database, a service."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        MAINTENANCE = "maintenance", _("In maintenance")
        RETIRED = "retired", _("Retired")

    type = models.ForeignKey(CIType, on_delete=models.PROTECT, related_name="items")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner_team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="configuration_items",
        verbose_name=_("owner team"),
    )
    environment = models.ForeignKey(
        Environment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="configuration_items",
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="configuration_items",
        help_text=_("The application this item is an instance of, if any."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("configuration item")
        verbose_name_plural = _("configuration items")
        constraints = [
            models.UniqueConstraint(fields=["type", "name"], name="unique_ci_name_per_type"),
        ]
        indexes = [
            models.Index(fields=["owner_team", "name"], name="ci_owner"),
            models.Index(fields=["environment", "name"], name="ci_environment"),
            models.Index(fields=["status", "name"], name="ci_status"),
            models.Index(fields=["application", "name"], name="ci_application"),
            # The list's keyset order (name, id) when no filter narrows it.
            models.Index(fields=["name", "id"], name="ci_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Relationship(models.Model):
    """`source` depends on, runs on, is part of or connects to `target`.

    A change to the target affects a source that depends on or runs on it; a change to a
    part affects the whole it is part of; a connection goes both ways (`cmdb.impact`)."""

    class Kind(models.TextChoices):
        DEPENDS_ON = "depends_on", _("depends on")
        RUNS_ON = "runs_on", _("runs on")
        PART_OF = "part_of", _("is part of")
        CONNECTS_TO = "connects_to", _("connects to")

    source = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="incoming")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="unique_relationship"
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="relationship_not_to_self"
            ),
        ]
        indexes = [
            models.Index(fields=["target", "kind", "source"], name="relationship_target"),
            models.Index(fields=["source", "kind", "target"], name="relationship_source"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.get_kind_display()} {self.target}"


class DeployedVersion(models.Model):
    """A version of an application that runs (or ran) on a configuration item.

    The current one has no `removed`; earlier rows are its history. `release` is the release
    that put it there (empty when recorded by hand or imported)."""

    ci = models.ForeignKey(ConfigurationItem, on_delete=models.CASCADE, related_name="versions")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+")
    version = models.CharField(_("version"), max_length=64)
    release = models.ForeignKey(
        "releases.Release",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deployed_versions",
    )
    installed = models.DateTimeField(_("installed"))
    removed = models.DateTimeField(_("removed"), null=True, blank=True)
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-installed", "-id"]
        verbose_name = _("deployed version")
        verbose_name_plural = _("deployed versions")
        constraints = [
            models.UniqueConstraint(
                fields=["ci", "application"],
                condition=models.Q(removed__isnull=True),
                name="one_current_version",
            ),
        ]
        indexes = [models.Index(fields=["ci", "-installed"], name="deployed_ci_history")]

    def __str__(self) -> str:
        return f"{self.ci} · {self.application.code} {self.version}"
