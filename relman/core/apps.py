from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "relman.core"
    label = "core"
