"""Requests for change (RFC), the releases that carry them, and their reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relman.changes.choices import Achieved, Approval, ChangeType, ExternalSystem, Risk, Status
from relman.core.models import TimestampedModel


class Change(TimestampedModel):
    """A request for change: what is to change in production, approved (or not) by change
    management, and deployed by the release that carries it (MOF: release management only
    deploys approved changes, and bundles several into one release)."""

    number = models.CharField(_("number"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    type = models.CharField(
        _("type"), max_length=20, choices=ChangeType.choices, default=ChangeType.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    risk = models.CharField(_("risk"), max_length=20, choices=Risk.choices, default=Risk.MEDIUM)
    application = models.ForeignKey(
        "cmdb.Application",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("application"),
        help_text=_("The application whose change board decides it; empty: the whole CAB."),
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requested_changes",
        verbose_name=_("requester"),
    )
    approval = models.CharField(
        _("approval"), max_length=20, choices=Approval.choices, default=Approval.NOT_REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    items = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="changes",
        verbose_name=_("configuration items"),
    )
    external_system = models.CharField(
        _("external system"), max_length=20, choices=ExternalSystem.choices, blank=True
    )
    external_key = models.CharField(_("external key"), max_length=100, blank=True)
    external_url = models.URLField(_("external link"), max_length=500, blank=True)
    external_state = models.CharField(_("external state"), max_length=100, blank=True)
    external_updated = models.DateTimeField(_("external update"), null=True, blank=True)
    revision = models.PositiveIntegerField(
        _("revision"),
        default=1,
        help_text=_("Grows with every change; a stale revision is refused."),
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        constraints = [
            models.UniqueConstraint(
                fields=["external_system", "external_key"],
                condition=~models.Q(external_key=""),
                name="unique_external_change",
            ),
            models.CheckConstraint(
                condition=models.Q(external_key="") | ~models.Q(external_system=""),
                name="external_key_has_system",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-id"], name="change_status"),
            models.Index(fields=["type", "-id"], name="change_type"),
            models.Index(fields=["approval", "-id"], name="change_approval"),
            models.Index(fields=["requester", "-id"], name="change_requester"),
            models.Index(fields=["application", "-id"], name="change_application"),
            models.Index(fields=["risk", "-id"], name="change_risk"),
            models.Index(fields=["planned_start"], name="change_planned_start"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ChangeSequence(models.Model):
    """The last change number used in one numbering scope (a year); locked to allocate."""

    scope = models.CharField(max_length=100, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.scope}: {self.last}"


class ReleaseChange(models.Model):
    """A change carried by a release. `is_open` follows the release: a change is in at most
    one open release (the partial unique constraint), and a closed or cancelled release
    frees it, while the row stays as the record of what the release carried."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="change_links"
    )
    change = models.ForeignKey(Change, on_delete=models.PROTECT, related_name="release_links")
    is_open = models.BooleanField(_("open"), default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["change__number"]
        verbose_name = _("change of a release")
        verbose_name_plural = _("changes of releases")
        constraints = [
            models.UniqueConstraint(fields=["release", "change"], name="unique_release_change"),
            models.UniqueConstraint(
                fields=["change"],
                condition=models.Q(is_open=True),
                name="change_in_one_open_release",
            ),
        ]
        indexes = [models.Index(fields=["change", "-release"], name="release_change_change")]

    def __str__(self) -> str:
        return f"{self.release_id} · {self.change_id}"


class ChangeReview(models.Model):
    """The change review after its release: did the change achieve its aim, and what else
    did it do (MOF: a change review follows the release)."""

    change = models.ForeignKey(Change, on_delete=models.CASCADE, related_name="reviews")
    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="change_reviews"
    )
    achieved = models.CharField(_("aim achieved"), max_length=10, choices=Achieved.choices)
    side_effects = models.TextField(_("side effects"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("reviewed"), auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("change review")
        verbose_name_plural = _("change reviews")
        constraints = [
            models.UniqueConstraint(fields=["change", "release"], name="one_review_per_release")
        ]

    def __str__(self) -> str:
        return f"{self.change_id} · {self.achieved}"
