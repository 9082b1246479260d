"""The pages: log in and out, the release list, the request form and the release page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from relman.web import (
    actions,
    approvals,
    changes,
    cmdb,
    documents,
    home,
    profile,
    readiness,
    reports,
    views,
)
from relman.web import cab as cab_pages
from relman.web.calendar import views as calendar

app_name = "web"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("language/", views.switch_language, name="language"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", profile.profile, name="profile"),
    path("profile/tokens/", profile.create_token, name="token-create"),
    path("profile/time-zone/", profile.set_time_zone, name="time-zone"),
    path("profile/tokens/<str:prefix>/revoke/", profile.revoke_token, name="token-revoke"),
    path("releases/", views.release_list, name="release-list"),
    path("releases/new/", views.release_create, name="release-create"),
    path("releases/<str:number>/", views.release_detail, name="release-detail"),
    path("releases/<str:number>/edit/", views.release_edit, name="release-edit"),
    path(
        "releases/<str:number>/actions/<str:action>/",
        actions.release_action,
        name="release-action",
    ),
    path("releases/<str:number>/checklist/", actions.release_tick, name="release-tick"),
    path("releases/<str:number>/approvals/", actions.release_approve, name="release-approve"),
    path(
        "releases/<str:number>/deliverables/",
        actions.release_deliverable,
        name="release-deliverable",
    ),
    path("releases/<str:number>/items/", actions.release_items, name="release-items"),
    path("releases/<str:number>/teams/", actions.release_teams, name="release-teams"),
    path("releases/<str:number>/changes/", changes.release_changes, name="release-changes"),
    path(
        "releases/<str:number>/impact/review/",
        actions.release_review_impact,
        name="release-review-impact",
    ),
    path(
        "releases/<str:number>/deployed/",
        actions.release_record_versions,
        name="release-record-versions",
    ),
    path("releases/<str:number>/comments/", actions.release_comment, name="release-comment"),
    path("releases/<str:number>/readiness/", readiness.readiness_page, name="release-readiness"),
    path("approvals/", approvals.inbox_page, name="approvals"),
    path("approvals/delegations/", approvals.delegations_page, name="delegations"),
    path(
        "approvals/delegations/<int:delegation_id>/revoke/",
        approvals.revoke_delegation,
        name="delegation-revoke",
    ),
    path("approvals/<str:number>/approve/", approvals.approve_step, name="approvals-approve"),
    path("approvals/<str:number>/reject/", approvals.reject_step, name="approvals-reject"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path(
        "calendar/releases/<str:number>/schedule/",
        calendar.schedule_release,
        name="calendar-schedule",
    ),
    path(
        "calendar/releases/<str:number>/unschedule/",
        calendar.unschedule_release,
        name="calendar-unschedule",
    ),
    path("cmdb/", cmdb.ci_list, name="ci-list"),
    path("cmdb/search/", cmdb.ci_search, name="ci-search"),
    path("cmdb/<int:ci_id>/", cmdb.ci_detail, name="ci-detail"),
    path("changes/", changes.change_list, name="change-list"),
    path("changes/search/", changes.change_search, name="change-search"),
    path("changes/<str:number>/", changes.change_detail, name="change-detail"),
    path("changes/<str:number>/decide/", changes.change_decide, name="change-decide"),
    path("changes/<str:number>/review/", changes.change_review, name="change-review"),
    path("reports/", reports.dashboard, name="reports"),
    path("reports/releases/", reports.figure_releases, name="report-releases"),
    path("reports/releases/export.<str:fmt>", reports.figure_export, name="report-export"),
    path(
        "reports/documents/<slug:name>/<str:period>.<slug:fmt>",
        documents.period_document,
        name="period-document",
    ),
    path(
        "releases/<str:number>/documents/<slug:name>.<slug:fmt>",
        documents.release_document,
        name="release-document",
    ),
    path("cab/", cab_pages.cab_list, name="cab-list"),
    path("cab/<int:meeting_id>/", cab_pages.cab_detail, name="cab-detail"),
    path("cab/<int:meeting_id>/attendance/", cab_pages.cab_attendance, name="cab-attendance"),
    path("cab/<int:meeting_id>/agenda/", cab_pages.cab_agenda, name="cab-agenda"),
    path("cab/<int:meeting_id>/decide/", cab_pages.cab_decide, name="cab-decide"),
    path("cab/<int:meeting_id>/close/", cab_pages.cab_close, name="cab-close"),
    path("cab/<int:meeting_id>/cancel/", cab_pages.cab_cancel, name="cab-cancel"),
    path("cab/<int:meeting_id>/minutes.pdf", cab_pages.cab_minutes_pdf, name="cab-minutes"),
]
