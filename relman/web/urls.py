from django.urls import path

from relman.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
]
