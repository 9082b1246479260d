"""Approvals in /admin/: shown for reference. Delegations, pending steps, readiness reviews
and CAB meetings change only through the approval services (pages, API, `relman approve`,
`relman delegate`), which check permissions and write the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from relman.approvals.models import (
    CabAgendaItem,
    CabAttendance,
    CabMeeting,
    Delegation,
    PendingStep,
    ReadinessCriterion,
    ReadinessReview,
)
from relman.core.admin import ReadOnlyAdmin


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ["delegator", "delegate", "starts", "ends", "revoked", "reason", "created"]
    list_filter = ["revoked"]
    search_fields = ["delegator__username", "delegate__username", "reason"]
    list_select_related = ["delegator", "delegate"]
    date_hierarchy = "starts"


@admin.register(PendingStep)
class PendingStepAdmin(ReadOnlyAdmin):
    list_display = [
        "release",
        "stage",
        "step",
        "role",
        "opened",
        "remind_at",
        "reminded",
        "expires_at",
        "escalate_role",
        "escalated",
        "closed",
    ]
    list_filter = ["role", "escalate_role"]
    search_fields = ["release__number", "stage", "step"]
    list_select_related = ["release"]


class ReadinessCriterionInline(admin.TabularInline):
    model = ReadinessCriterion
    extra = 0
    can_delete = False
    fields = ["key", "met", "deliverable_version", "checklist_item", "note"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReadinessReview)
class ReadinessReviewAdmin(ReadOnlyAdmin):
    list_display = ["release", "stage", "decision", "decided_by", "created", "voided"]
    list_filter = ["decision"]
    search_fields = ["release__number", "note"]
    list_select_related = ["release", "decided_by"]
    inlines = [ReadinessCriterionInline]


class CabAttendanceInline(admin.TabularInline):
    model = CabAttendance
    extra = 0
    can_delete = False
    fields = ["member", "present"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CabAgendaItemInline(admin.TabularInline):
    model = CabAgendaItem
    extra = 0
    can_delete = False
    fields = ["position", "release", "stage", "step", "decision", "reason", "decided_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CabMeeting)
class CabMeetingAdmin(ReadOnlyAdmin):
    list_display = ["title", "starts", "location", "chair", "status"]
    list_filter = ["status"]
    search_fields = ["title", "location", "minutes"]
    list_select_related = ["chair"]
    inlines = [CabAttendanceInline, CabAgendaItemInline]
