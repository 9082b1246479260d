"""The pages: log in and out, the release list, the request form and the release page."""

from django.contrib.auth import views as auth_views
from django.urls import path

from relman.web import actions, views
from relman.web.calendar import views as calendar

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("language/", views.switch_language, name="language"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("releases/", views.release_list, name="release-list"),
    path("releases/new/", views.release_create, name="release-create"),
    path("releases/<str:number>/", views.release_detail, name="release-detail"),
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
    path("releases/<str:number>/comments/", actions.release_comment, name="release-comment"),
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
]
