"""relman: release management for IT service teams."""

__version__ = "0.1.0"

from relman.celery import app as celery_app

__all__ = ["celery_app"]
