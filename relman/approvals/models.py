"""Approval steps waiting for decisions, delegation, readiness reviews and the CAB.

The decisions themselves are `releases.Approval` rows; the policy comes from the process
definition (`Stage.approvals`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from relman.core.models import TimestampedModel


class Delegation(TimestampedModel):
    """While `delegator` is away, `delegate` decides the steps the delegator could decide."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_given",
        verbose_name=_("away"),
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_received",
        verbose_name=_("delegate"),
    )
    starts = models.DateTimeField(_("from"))
    ends = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-starts"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        indexes = [
            models.Index(fields=["delegate", "ends"], name="delegation_delegate_ends"),
            models.Index(fields=["delegator", "ends"], name="delegation_delegator_ends"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="delegation_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate}"


class PendingStep(models.Model):
    """An approval step open for decision: the inbox, reminders and escalation read these."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="pending_steps"
    )
    stage = models.CharField(_("stage"), max_length=64)
    step = models.CharField(_("step"), max_length=64)
    role = models.CharField(_("role"), max_length=64)
    escalate_role = models.CharField(_("escalates to"), max_length=64, blank=True)
    opened = models.DateTimeField(_("opened"))
    remind_at = models.DateTimeField(_("reminder due"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    reminded = models.DateTimeField(_("reminded"), null=True, blank=True)
    escalated = models.DateTimeField(_("escalated"), null=True, blank=True)
    closed = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["opened", "id"]
        verbose_name = _("pending approval step")
        verbose_name_plural = _("pending approval steps")
        indexes = [
            models.Index(
                fields=["role"], condition=models.Q(closed__isnull=True), name="pending_open_role"
            ),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(closed__isnull=True, escalated__isnull=True),
                name="pending_open_expiry",
            ),
            models.Index(
                fields=["remind_at"],
                condition=models.Q(closed__isnull=True, reminded__isnull=True),
                name="pending_open_reminder",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "stage", "step"],
                condition=models.Q(closed__isnull=True),
                name="one_open_pending_step",
            )
        ]

    def __str__(self) -> str:
        return f"{self.release_id} {self.stage}/{self.step}"


class ReadinessReview(models.Model):
    """A go/no-go decision on a release against the process's release criteria."""

    GO, NO_GO = "go", "no_go"
    DECISIONS = [(GO, _("go")), (NO_GO, _("no-go"))]

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="readiness_reviews"
    )
    stage = models.CharField(_("stage"), max_length=64)
    decision = models.CharField(_("decision"), max_length=10, choices=DECISIONS)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    created = models.DateTimeField(_("decided"), auto_now_add=True)
    voided = models.DateTimeField(_("voided"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("readiness review")
        verbose_name_plural = _("readiness reviews")
        indexes = [models.Index(fields=["release", "stage"], name="readiness_release_stage")]

    def __str__(self) -> str:
        return f"{self.release_id} {self.stage}: {self.decision}"


class ReadinessCriterion(models.Model):
    """One release criterion as a review judged it, with its evidence."""

    review = models.ForeignKey(ReadinessReview, on_delete=models.CASCADE, related_name="criteria")
    key = models.SlugField(_("criterion"), max_length=64)
    met = models.BooleanField(_("met"))
    deliverable_version = models.ForeignKey(
        "releases.DeliverableVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evidence: deliverable"),
    )
    checklist_item = models.SlugField(_("evidence: check"), max_length=64, blank=True)
    note = models.CharField(_("evidence: note"), max_length=1000, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("readiness criterion")
        verbose_name_plural = _("readiness criteria")
        constraints = [
            models.UniqueConstraint(fields=["review", "key"], name="one_result_per_criterion")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {'met' if self.met else 'unmet'}"


class CabMeeting(TimestampedModel):
    """A meeting of the change advisory board that decides the releases on its agenda."""

    PLANNED, HELD, CANCELLED = "planned", "held", "cancelled"
    STATUSES = [(PLANNED, _("planned")), (HELD, _("held")), (CANCELLED, _("cancelled"))]

    title = models.CharField(_("title"), max_length=200)
    starts = models.DateTimeField(_("starts"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("chair"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="CabAttendance",
        related_name="cab_meetings",
        verbose_name=_("members"),
    )
    status = models.CharField(_("status"), max_length=12, choices=STATUSES, default=PLANNED)
    minutes = models.TextField(_("minutes"), blank=True)

    class Meta:
        ordering = ["-starts"]
        verbose_name = _("CAB meeting")
        verbose_name_plural = _("CAB meetings")
        indexes = [models.Index(fields=["status", "starts"], name="cab_status_starts")]

    def __str__(self) -> str:
        return self.title


class CabAttendance(models.Model):
    """A member invited to a CAB meeting, and whether they attended."""

    meeting = models.ForeignKey(CabMeeting, on_delete=models.CASCADE, related_name="attendance")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    present = models.BooleanField(_("present"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("CAB attendance")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="one_attendance_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.member_id}"


class CabAgendaItem(models.Model):
    """A release on a CAB meeting's agenda and the board's decision on it."""

    APPROVE, REJECT, DEFER = "approve", "reject", "defer"
    DECISIONS = [(APPROVE, _("approved")), (REJECT, _("rejected")), (DEFER, _("deferred"))]

    meeting = models.ForeignKey(CabMeeting, on_delete=models.CASCADE, related_name="agenda")
    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="cab_items"
    )
    stage = models.CharField(_("stage"), max_length=64)
    step = models.CharField(_("step"), max_length=64)
    position = models.PositiveIntegerField(_("position"), default=0)
    decision = models.CharField(_("decision"), max_length=10, choices=DECISIONS, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    approval = models.ForeignKey(
        "releases.Approval", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("CAB agenda item")
        verbose_name_plural = _("CAB agenda items")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "release"], name="one_agenda_item_per_release"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.release_id}"
