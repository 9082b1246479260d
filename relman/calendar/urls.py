"""The iCalendar feeds' URLs (included under /calendar/feeds/)."""

from django.urls import path

from relman.calendar import feeds

app_name = "calendar-feeds"

urlpatterns = [
    path("application/<slug:code>.ics", feeds.application_feed, name="application"),
    path("team/<str:team>.ics", feeds.team_feed, name="team"),
    path("personal/<str:secret>.ics", feeds.personal_feed, name="personal"),
]
