"""Which tenant a request acts on, in the code and in the database.

Every user belongs to one tenant. A super admin may switch to any tenant; the choice lives in the session and is
attached to ``request.user`` by :class:`TenantMiddleware`, so ``for_user(user)`` never needs the request.

On PostgreSQL the database holds the same line (DESIGN section 4): row-level security shows the app role only the
rows of the tenant in the setting ``authmon.tenant_id``, and no rows when it is unset. It is set in three places
only: :class:`TenantMiddleware` for console requests (``SET LOCAL`` in the request's transaction), the API's token
check (``authmon.api_auth``) for API calls, and :func:`tenant_scope` for jobs and other work outside a request.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.http import FileResponse, HttpRequest, HttpResponse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from authmon.models import Tenant, User

SESSION_KEY = "authmon_active_tenant"
DB_SETTING = "authmon.tenant_id"  # what the row-level security policies compare each row's tenant_id with


def _db_setting(tenant_id: int | None, *, local: bool, using: str = DEFAULT_DB_ALIAS) -> str | None:
    """Set the database's tenant to ``tenant_id`` (None: no tenant, no rows); returns the value it had before."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    value = "" if tenant_id is None else str(int(tenant_id))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting(%s, true), set_config(%s, %s, %s)", [DB_SETTING, DB_SETTING, value, local]
        )
        return cursor.fetchone()[0]


def _db_setting_now(using: str = DEFAULT_DB_ALIAS) -> int | None:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [DB_SETTING])
        value = cursor.fetchone()[0]
    return int(value) if value else None


def db_tenant_set(tenant_id: int | None, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """``SET LOCAL authmon.tenant_id``: the rows the database shows until the current transaction ends.

    Transaction-local, so that it is safe behind a transaction-mode pooler: a console request runs in one
    transaction (:class:`TenantMiddleware`), and so does an API call.
    """
    _db_setting(tenant_id, local=True, using=using)


@contextmanager
def tenant_scope(tenant_id: int | None, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Work outside a request (a job, a task, a command) acting on one tenant's rows, then the setting as it was.

    A job writes its progress while it runs, so it cannot be one transaction; the setting is the connection's
    until the block ends (workers connect directly or through a session-mode pool, docs/scaling.md). Inside a
    transaction it is ``SET LOCAL`` instead, which ends with that transaction whatever happens.
    """
    connection = connections[using]
    local = connection.in_atomic_block
    previous = _db_setting(tenant_id, local=local, using=using)
    try:
        yield
    finally:
        if connection.vendor == "postgresql" and not connection.needs_rollback and connection.is_usable():
            _db_setting(int(previous) if previous else None, local=local, using=using)


def command_tenant_use(tenant_id: int) -> None:
    """For a management command: the rest of its work on this connection is in ``tenant_id``'s rows.

    A command is one process acting on the tenant it was given by slug; the setting lasts as long as its
    connection (or, inside a transaction, until that ends).
    """
    _db_setting(tenant_id, local=False)


def _streamed_in_tenant(content: Iterable[bytes], tenant_id: int | None) -> Iterator[bytes]:
    """A streamed response's rows are read while it is sent, after the view's transaction: in one of their own."""
    with transaction.atomic():
        db_tenant_set(tenant_id)
        yield from content


def active_tenant_for(user: User) -> Tenant | None:
    """The tenant whose records ``user`` sees now: their own, or the one a super admin switched to."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    chosen = getattr(user, "_active_tenant", None)
    if chosen is not None and user.is_super_admin:
        return chosen
    return user.tenant


def switch_tenant(request: HttpRequest, tenant: Tenant) -> None:
    """Make ``tenant`` the active tenant of a super admin's session."""
    user = request.user
    if not getattr(user, "is_super_admin", False):
        raise PermissionError("Only super admins can switch tenant.")
    request.session[SESSION_KEY] = tenant.pk
    user._active_tenant = tenant  # type: ignore[union-attr]
    db_tenant_set(tenant.pk)  # the rest of this request (the switch's audit record) is in the new tenant


class TenantMiddleware:
    """Attach a super admin's chosen tenant to ``request.user``, expose ``request.tenant``, and on PostgreSQL run
    the request in one transaction whose database tenant is that tenant (none before sign-in: no rows)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from authmon.models import Tenant

        user = request.user
        request.tenant = None  # type: ignore[attr-defined]
        if user.is_authenticated:
            tenant_id = request.session.get(SESSION_KEY)
            if tenant_id and user.is_super_admin:
                user._active_tenant = Tenant.objects.filter(pk=tenant_id).first()  # type: ignore[union-attr]
            request.tenant = active_tenant_for(user)  # type: ignore[attr-defined,arg-type]
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            return self.get_response(request)
        tenant_id = request.tenant.pk if request.tenant is not None else None  # type: ignore[attr-defined]
        with transaction.atomic():
            db_tenant_set(tenant_id)
            response = self.get_response(request)
            streamed = response.streaming and not isinstance(response, FileResponse)
            if streamed:  # the tenant as the view left it: an API call sets its token's tenant (api_auth)
                tenant_id = _db_setting_now()
        if streamed:
            response.streaming_content = _streamed_in_tenant(response.streaming_content, tenant_id)
        return response
