"""Releases and what hangs off them: deliverables, approvals, checklist ticks, comments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relman.core.models import TimestampedModel
from relman.releases.choices import Kind, Method, Outcome, ReleaseClass, Risk, Status


class Release(TimestampedModel):
    """A change on its way to production, moving through its application's process."""

    number = models.CharField(_("number"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    application = models.ForeignKey(
        "cmdb.Application",
        on_delete=models.PROTECT,
        related_name="releases",
        verbose_name=_("application"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, default=Method.PLANNED
    )
    release_class = models.CharField(
        _("class"), max_length=20, choices=ReleaseClass.choices, default=ReleaseClass.STANDARD
    )
    version_number = models.CharField(_("version number"), max_length=64, blank=True)
    environment = models.ForeignKey(
        "cmdb.Environment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="releases",
        verbose_name=_("target environment"),
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="requested_releases",
        verbose_name=_("requester"),
    )
    release_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_releases",
        verbose_name=_("release manager"),
    )
    scope = models.TextField(_("scope"), blank=True)
    impact = models.TextField(_("impact"), blank=True)
    risk = models.CharField(_("risk"), max_length=20, choices=Risk.choices, default=Risk.MEDIUM)
    backout_plan = models.TextField(_("backout plan"), blank=True)
    process = models.ForeignKey(
        "processes.ProcessVersion",
        on_delete=models.PROTECT,
        related_name="releases",
        verbose_name=_("process"),
    )
    variant = models.CharField(_("flow"), max_length=64)
    stage = models.CharField(_("stage"), max_length=64, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_PROGRESS
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    revision = models.PositiveIntegerField(
        _("revision"),
        default=1,
        help_text=_("Grows with every change; a stale revision is refused."),
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        indexes = [
            models.Index(fields=["status", "-created", "-id"], name="release_status_created"),
            models.Index(fields=["application", "-created", "-id"], name="release_app_created"),
            models.Index(
                fields=["kind", "method", "release_class"], name="release_kind_method_class"
            ),
            models.Index(fields=["planned_start"], name="release_planned_start"),
            # the reports ask for the releases closed in a period, by their end
            models.Index(fields=["status", "actual_end"], name="release_status_ended"),
            models.Index(fields=["application", "actual_end"], name="release_app_ended"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ReleaseSequence(models.Model):
    """The last number used for one numbering scope (such as a year); locked to allocate."""

    scope = models.CharField(max_length=100, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.scope}: {self.last}"


class Deliverable(TimestampedModel):
    """A document a stage requires, such as the release plan; it keeps every version."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deliverables")
    key = models.SlugField(_("type"), max_length=64)
    title = models.CharField(_("title"), max_length=200)

    class Meta:
        ordering = ["key"]
        verbose_name = _("deliverable")
        verbose_name_plural = _("deliverables")
        constraints = [
            models.UniqueConstraint(fields=["release", "key"], name="unique_deliverable_key")
        ]

    def __str__(self) -> str:
        return self.title


class DeliverableVersion(models.Model):
    """One upload (a file with its checksum) or link of a deliverable."""

    deliverable = models.ForeignKey(Deliverable, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    file = models.CharField(_("stored file"), max_length=300, blank=True)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("deliverable version")
        constraints = [
            models.UniqueConstraint(
                fields=["deliverable", "number"], name="unique_deliverable_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deliverable} v{self.number}"


class Approval(models.Model):
    """A decision on one step of a stage's approval policy: approved or rejected.

    A delegate decides on behalf of the person away (`on_behalf_of`). `basis` keeps the
    deliverable versions the decision saw; a new version voids it (`voided`, `void_reason`),
    as does the release returning before the stage.
    """

    APPROVED, REJECTED = "approved", "rejected"
    DECISIONS = [(APPROVED, _("approved")), (REJECTED, _("rejected"))]

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="approvals")
    stage = models.CharField(_("stage"), max_length=64)
    step = models.CharField(_("step"), max_length=64, default="")
    decision = models.CharField(_("decision"), max_length=10, choices=DECISIONS, default=APPROVED)
    role = models.ForeignKey("accounts.Role", on_delete=models.PROTECT, related_name="+")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    comment = models.TextField(_("comment"), blank=True)
    checks = models.JSONField(_("items checked"), default=list, blank=True)
    basis = models.JSONField(_("deliverable versions seen"), default=dict, blank=True)
    created = models.DateTimeField(_("decided"), auto_now_add=True)
    voided = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=300, blank=True)

    class Meta:
        ordering = ["created"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints = [
            models.UniqueConstraint(
                fields=["release", "stage", "approver"],
                condition=models.Q(voided__isnull=True),
                name="one_live_approval_per_person_and_stage",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage}/{self.step}: {self.decision} by {self.approver_id}"


class ChecklistTick(models.Model):
    """A checklist item of a stage marked done. Voided when the release returns before it."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="checklist_ticks")
    stage = models.CharField(_("stage"), max_length=64)
    item = models.SlugField(_("item"), max_length=64)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created = models.DateTimeField(_("done"), auto_now_add=True)
    voided = models.DateTimeField(_("voided"), null=True, blank=True)

    class Meta:
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "stage", "item"],
                condition=models.Q(voided__isnull=True),
                name="one_live_tick_per_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage}: {self.item}"


class Comment(models.Model):
    """A remark on a release."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"))
    created = models.DateTimeField(_("written"), auto_now_add=True)

    class Meta:
        ordering = ["created"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return self.body[:50]


class ReleaseItem(models.Model):
    """A configuration item the release touches: what it changes, and the root of its impact."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="items")
    ci = models.ForeignKey(
        "cmdb.ConfigurationItem", on_delete=models.PROTECT, related_name="release_items"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("touched configuration item")
        verbose_name_plural = _("touched configuration items")
        constraints = [
            models.UniqueConstraint(fields=["release", "ci"], name="unique_release_item"),
        ]
        indexes = [models.Index(fields=["ci", "release"], name="release_item_ci")]

    def __str__(self) -> str:
        return f"{self.release_id} · {self.ci_id}"


class ReleaseTeam(models.Model):
    """A department added by hand to those involved in the release (beyond the requester's
    and the owners of the items it touches)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="added_teams")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("involved department")
        verbose_name_plural = _("involved departments")
        constraints = [
            models.UniqueConstraint(fields=["release", "team"], name="unique_release_team"),
        ]

    def __str__(self) -> str:
        return f"{self.release_id} · {self.team_id}"


class ImpactReview(models.Model):
    """Someone confirmed the impact of a release as it stood: the items it touches and the
    items and services those affect. A change of the touched items voids it (`voided`), and
    the `impact_reviewed` gate accepts it only while the impact is still the one it saw."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="impact_reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    roles = models.JSONField(_("roles held"), default=list, blank=True)
    touched = models.JSONField(_("touched items seen"), default=list, blank=True)
    affected = models.JSONField(_("affected items seen"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created = models.DateTimeField(_("reviewed"), auto_now_add=True)
    voided = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("why voided"), max_length=300, blank=True)

    class Meta:
        ordering = ["created", "id"]
        verbose_name = _("impact review")
        verbose_name_plural = _("impact reviews")
        indexes = [models.Index(fields=["release", "voided"], name="impact_review_live")]

    def __str__(self) -> str:
        return f"{self.release_id} · {self.reviewer_id}"
