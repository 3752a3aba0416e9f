"""Shared fixtures: two tenants and a user of each role in each, so every test can check isolation."""

from __future__ import annotations

import pytest

from authmon.models import Role, Tenant, User
from tests.skip_gate import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401 - the CI skip gate

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant.objects.create(slug="acme", name="Acme Corp", timezone="Europe/Berlin")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return Tenant.objects.create(slug="globex", name="Globex", timezone="America/New_York")


def make_user(tenant: Tenant, role: str, email: str | None = None) -> User:
    return User.objects.create_user(email or f"{role}@{tenant.slug}.example", PASSWORD, tenant=tenant, role=role)


@pytest.fixture
def auditor(tenant_a) -> User:
    return make_user(tenant_a, Role.AUDITOR)


@pytest.fixture
def tenant_admin(tenant_a) -> User:
    return make_user(tenant_a, Role.TENANT_ADMIN)


@pytest.fixture
def super_admin(tenant_a) -> User:
    return make_user(tenant_a, Role.SUPER_ADMIN)


@pytest.fixture
def other_admin(tenant_b) -> User:
    return make_user(tenant_b, Role.TENANT_ADMIN)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Tests render templates without running collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """The test client speaks plain HTTP: production's redirect to HTTPS (DEBUG off) is turned off for tests only."""
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _eager_celery():
    """Run tasks in-process unless a test asks for the real worker (the integration tests do)."""
    from authmon.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 costs about a quarter of a second per hash; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Let the test database's flush TRUNCATE the audit table, which its trigger refuses elsewhere (audit 0005)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            name = connection.ops.quote_name(connection.settings_dict["NAME"])
            cursor.execute(f"ALTER DATABASE {name} SET authmon.allow_truncate = 'on'")
            cursor.execute("SET authmon.allow_truncate = 'on'")


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Login throttle and API rate counters live in the cache (Redis in CI): each test counts in its own namespace."""
    import uuid

    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture(autouse=True)
def _own_checkpoint_store(settings, tmp_path):
    """Audit chain checkpoints (audit.checkpoints) are remembered outside the database: each test has its own store."""
    settings.AUTHMON_CHECKPOINT_DIR = tmp_path / "checkpoints"
