"""Running the suite as the app role (DESIGN section 4), when ``DATABASE_OWNER_URL`` names another role than
``DATABASE_URL`` (CI's PostgreSQL pass).

The test database is created and migrated by the owner, the app role gets its grants there as in production
(``migrate`` does it), and test code that sets up and inspects rows runs as the owner. Everything the application
does for a request, through the test client or the browser tests' live server, runs as the app role
(``SET ROLE``), and so do the real Celery workers the integration tests start: so the suite proves that the
console, the API and the jobs set their tenant where row-level security needs it, with no superuser to hide a miss.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator
from typing import Any

import dj_database_url
from django.db import connections

OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")


def app_settings() -> dict[str, Any] | None:
    """The app role's connection settings (``DATABASE_URL``) when the suite runs as it, else None."""
    from authmon.dbroles import app_role_name

    if not app_role_name():
        return None
    return dj_database_url.parse(os.environ["DATABASE_URL"])


def app_role() -> str | None:
    settings = app_settings()
    return settings["USER"] if settings else None


def owner_settings_apply(settings_dict: dict[str, Any]) -> None:
    """Connect the test run itself as the owner: it creates the test database and sets up rows."""
    owner = dj_database_url.parse(OWNER_URL)
    for key in ("USER", "PASSWORD", "HOST", "PORT"):
        settings_dict[key] = owner[key]


def database_url(name: str | None = None) -> str:
    """A URL of the test database for a process the tests start (a worker): as the app role when the suite runs
    as it, else as the test run's own role."""
    db = connections["default"].settings_dict
    app = app_settings()
    user, password = (app["USER"], app["PASSWORD"]) if app else (db["USER"], db["PASSWORD"])
    credentials = f"{user}:{password}" if password else user
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name or db['NAME']}"


def _as_role(role: str) -> None:
    try:
        cursor = connections["default"].cursor()
    except RuntimeError:  # a test without database access: the request cannot touch it either
        return
    with cursor:
        cursor.execute(f"SET ROLE {role}")


def role_reset() -> None:
    connection = connections["default"]
    if connection.connection is None or connection.needs_rollback:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    except Exception:  # an aborted transaction ends the role with it
        return


def _streamed_as(role: str, content: Iterable[bytes]) -> Iterator[bytes]:
    """Each chunk is produced as ``role``; between chunks (and if the test stops reading) the connection is back to
    the test's own role."""
    chunks = iter(content)
    while True:
        _as_role(role)
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        finally:
            role_reset()
        yield chunk


def requests_as_app_role(role: str) -> None:
    """Make every request the application handles (test client, live server) run as ``role``."""
    from django.core.handlers.base import BaseHandler

    original = BaseHandler.get_response
    if getattr(original, "_authmon_app_role", None):
        return

    @functools.wraps(original)
    def get_response(self: BaseHandler, request: Any) -> Any:
        _as_role(role)
        try:
            response = original(self, request)
        finally:
            role_reset()
        if getattr(response, "streaming", False):
            response.streaming_content = _streamed_as(role, response.streaming_content)
        return response

    get_response._authmon_app_role = True  # type: ignore[attr-defined]
    BaseHandler.get_response = get_response  # type: ignore[method-assign]


SCRATCH_ROLE = "authmon_test_app"  # the app role of a run with one database URL (created by the tests, no login)


def scratch_role_ensure(cursor: Any) -> str:
    """An app role for a run that connects with one URL, created here (idempotent) with the app role's grants."""
    from authmon.dbroles import grant_app_role

    cursor.execute(
        f"""DO $$ BEGIN
            CREATE ROLE {SCRATCH_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$"""
    )
    grant_app_role(cursor, SCRATCH_ROLE)
    return SCRATCH_ROLE


def grants_restore() -> None:
    """After a test re-creates tables by migrating back and forth: the app role's grants on them, as ``migrate``
    gives them (authmon/management/commands/migrate.py)."""
    from authmon.dbroles import grant_app_role

    role = app_role()
    if role:
        with connections["default"].cursor() as cursor:
            grant_app_role(cursor, role)
