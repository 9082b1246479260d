"""The project's URLs: one line per app."""

from django.contrib import admin
from django.urls import include, path

from relman.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("calendar/feeds/", include("relman.calendar.urls")),
    path("notifications/", include("relman.notifications.urls")),
    path("", include("relman.web.urls")),
]

handler400 = "relman.core.handlers.bad_request"
handler403 = "relman.core.handlers.permission_denied"
handler404 = "relman.core.handlers.page_not_found"
handler500 = "relman.core.handlers.server_error"
