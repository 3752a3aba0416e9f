"""Shared fixtures: two tenants and a user of each role in each, so every test can check isolation."""

from __future__ import annotations

import pytest

from authmon.models import Role, Tenant, User
from tests import dbrole
from tests.skip_gate import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401 - the CI skip gate
from tests.smtp import smtp  # noqa: F401 - a real SMTP server (aiosmtpd) for the e-mail tests of every app

PASSWORD = "correct-horse-battery-staple"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make test`` runs ``-n``, ``--dist loadgroup``) the browser tests stay together on one
    worker: they share one demo server, loaded once for their package (tests/browser/conftest.py)."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


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
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """As the app role (tests/dbrole.py): the test run connects as the owner, which creates the test database."""
    from django.db import connections

    if dbrole.app_role():
        dbrole.owner_settings_apply(connections["default"].settings_dict)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """As the app role: grant it least privilege in the test database, and run every request as it."""
    from django.db import connection

    from authmon.dbroles import grant_app_role

    role = dbrole.app_role()
    if role:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            grant_app_role(cursor, role)
        dbrole.requests_as_app_role(role)


@pytest.fixture(autouse=True)
def _own_cache_namespace(settings):
    """Login throttle and API rate counters live in the cache (Redis in CI): each test counts in its own namespace."""
    import uuid

    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture(autouse=True)
def _own_checkpoint_store(settings, tmp_path):
    """Audit chain checkpoints (audit.checkpoints) are remembered outside the database: each test has its own store."""
    settings.AUTHMON_CHECKPOINT_DIR = tmp_path / "checkpoints"


@pytest.fixture
def as_app_role(db):
    """``with as_app_role(tenant) as cursor``: a cursor that runs as the app role with ``tenant`` (or none) set.

    On PostgreSQL only: the role is the suite's app role, or a scratch one with the same grants (tests/dbrole.py).
    """
    from contextlib import contextmanager

    from django.db import connection, transaction

    from authmon.tenancy import db_tenant_set

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: roles and row-level security")
    with connection.cursor() as cursor:
        role = dbrole.app_role() or dbrole.scratch_role_ensure(cursor)

    @contextmanager
    def enter(tenant=None):
        with transaction.atomic(), connection.cursor() as cursor:
            db_tenant_set(getattr(tenant, "pk", tenant))
            cursor.execute(f"SET ROLE {role}")
            yield cursor  # on an error the savepoint's rollback undoes the role and the tenant
            cursor.execute("RESET ROLE")
            db_tenant_set(None)

    return enter


@pytest.fixture
def app_role_session(db):
    """The rest of the test runs as the app role (PostgreSQL only): list it after the fixtures that set rows up."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: roles and row-level security")
    with connection.cursor() as cursor:
        role = dbrole.app_role() or dbrole.scratch_role_ensure(cursor)
        cursor.execute(f"SET ROLE {role}")
    yield role
    dbrole.role_reset()


# Statements a query budget does not count: transaction control (a savepoint in tests, BEGIN/COMMIT in production,
# which Django does not log), the tenant setting every request starts with on PostgreSQL (authmon.tenancy), and the
# role switches of the app-role harness (tests/dbrole.py).
NOT_PAGE_QUERIES = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SET ROLE", "RESET ROLE")


@pytest.fixture
def page_queries_at_most():
    """``with page_queries_at_most(n): client.get(...)``: fails when the page ran more than ``n`` queries of its own."""
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from authmon.tenancy import DB_SETTING

    @contextmanager
    def budget(limit):
        with CaptureQueriesContext(connection) as context:
            yield context
        own = [
            q["sql"]
            for q in context.captured_queries
            if not q["sql"].startswith(NOT_PAGE_QUERIES) and f"set_config('{DB_SETTING}'" not in q["sql"]
        ]
        assert len(own) <= limit, f"{len(own)} queries, more than {limit}:\n" + "\n\n".join(own)

    return budget
