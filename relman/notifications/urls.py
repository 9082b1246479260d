"""The notification pages."""

from django.urls import path

from relman.notifications import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox_page, name="outbox"),
    path("outbox/<str:uuid>/retry/", views.outbox_retry, name="outbox-retry"),
]
