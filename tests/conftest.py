"""Fixtures shared by every test. Data comes from tests/factories.py, through the services."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from tests import factories


@pytest.fixture(autouse=True)
def _language():
    """Every test starts in English: a page request activates its language on the thread
    (Django's LocaleMiddleware) and nothing deactivates it afterwards."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    """Each test stores files in its own folder and reads processes only from the presets."""
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.RELMAN_PROCESS_DIRS = []


@pytest.fixture
def presets(db):
    factories.processes()


@pytest.fixture
def app(presets):
    return factories.application("crm", process="tfdl")


@pytest.fixture
def admin(db):
    return factories.admin()


@pytest.fixture
def api_client():
    """A client for the API that authenticates with a real bearer token."""

    def make(user=None) -> Client:
        from relman.accounts.services import create_token

        headers = {}
        if user is not None:
            _token, secret = create_token(None, user, name="test")
            headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        return Client(**headers)

    return make


@pytest.fixture(autouse=True)
def _fresh_process_definitions():
    """Parsed definitions are cached by version id, and ids are reused once a test's
    transaction is rolled back: every test starts with an empty cache."""
    from relman.processes import services as processes

    processes._definition.cache_clear()
    yield
    processes._definition.cache_clear()


@pytest.fixture
def fast_passwords(settings):
    """A cheap password hash, for tests that make users by the dozen."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Transactional tests flush every table after themselves, the rows the migrations made
    included: put back the built-in roles and the audit chain's head before each of them."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from relman.accounts.services import ensure_builtin_roles
    from relman.audit.models import ChainHead

    ensure_builtin_roles()
    ChainHead.objects.get_or_create(pk=1)
