"""The notification pages."""

from django.urls import path

from relman.notifications import views

app_name = "notifications"

urlpatterns = [
    path("outbox/", views.outbox_page, name="outbox"),
    path("outbox/<str:uuid>/retry/", views.outbox_retry, name="outbox-retry"),
    path("subscriptions/", views.subscriptions_page, name="subscriptions"),
    path(
        "subscriptions/<int:subscription_id>/delete/",
        views.subscription_delete,
        name="subscription-delete",
    ),
]
