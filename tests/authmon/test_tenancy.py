"""The tenancy door in the code (authmon.tenancy): which tenant a user sees, a super admin's switch, and what
TenantMiddleware attaches to a request. The module is on the mutation check's list (README, "Mutation check"): these
tests are what kills its mutants; the database half (row-level security, ``SET LOCAL``) is the PostgreSQL suite's.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from authmon.models import Role, Tenant
from authmon.tenancy import SESSION_KEY, TenantMiddleware, active_tenant_for, switch_tenant
from tests.conftest import make_user

OWN, OTHER = SimpleNamespace(pk=1, slug="own"), SimpleNamespace(pk=2, slug="other")


def user(role: str = Role.AUDITOR, *, authenticated: bool = True, active: bool = True, **extra) -> SimpleNamespace:
    return SimpleNamespace(
        role=role,
        is_authenticated=authenticated,
        is_active=active,
        is_super_admin=role == Role.SUPER_ADMIN,
        tenant=OWN,
        **extra,
    )


# ---- active_tenant_for ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN, Role.SUPER_ADMIN])
def test_a_signed_in_user_sees_their_own_tenant(role):
    assert active_tenant_for(user(role)) is OWN


@pytest.mark.parametrize(
    "who",
    [
        {"authenticated": False},  # never signed in, whatever tenant the object carries
        {"active": False},  # a deactivated account keeps its tenant but sees none
        {"authenticated": False, "active": False},
    ],
    ids=["anonymous", "inactive", "both"],
)
def test_anonymous_and_inactive_users_see_no_tenant(who):
    assert active_tenant_for(user(Role.SUPER_ADMIN, **who)) is None
    assert active_tenant_for(user(Role.SUPER_ADMIN, _active_tenant=OTHER, **who)) is None


def test_an_object_that_does_not_say_it_is_signed_in_sees_no_tenant():
    assert active_tenant_for(SimpleNamespace(is_active=True, is_super_admin=False, tenant=OWN)) is None


def test_a_super_admin_sees_the_tenant_switched_to():
    assert active_tenant_for(user(Role.SUPER_ADMIN, _active_tenant=OTHER)) is OTHER


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN])
def test_only_a_super_admin_is_moved_by_a_chosen_tenant(role):
    assert active_tenant_for(user(role, _active_tenant=OTHER)) is OWN


# ---- switch_tenant -------------------------------------------------------------------------------------------


def test_a_super_admin_switches_for_the_session_and_the_rest_of_the_request(db):
    admin = user(Role.SUPER_ADMIN)
    request = SimpleNamespace(user=admin, session={})
    switch_tenant(request, OTHER)
    assert request.session == {SESSION_KEY: OTHER.pk}
    assert active_tenant_for(admin) is OTHER


@pytest.mark.parametrize(
    "who",
    [user(Role.AUDITOR), user(Role.TENANT_ADMIN), SimpleNamespace(is_authenticated=True, is_active=True, tenant=OWN)],
    ids=["auditor", "tenant_admin", "no role at all"],
)
def test_no_one_else_may_switch(db, who):
    request = SimpleNamespace(user=who, session={})
    with pytest.raises(PermissionError, match="Only super admins can switch tenant"):
        switch_tenant(request, OTHER)
    assert request.session == {}
    assert active_tenant_for(who) in (OWN, None)
    assert not hasattr(who, "_active_tenant")


# ---- TenantMiddleware ----------------------------------------------------------------------------------------


def through_middleware(who, session: dict | None = None, response: HttpResponse | None = None):
    """Send a request of ``who`` through TenantMiddleware; returns the request the view got and the response."""
    seen = []

    def view(request):
        seen.append(request)
        return response if response is not None else HttpResponse("the view")

    request = RequestFactory().get("/")
    request.user = who
    request.session = dict(session or {})
    out = TenantMiddleware(view)(request)
    assert seen == [request]  # the view ran once, with the request
    return request, out


def test_an_anonymous_request_has_no_tenant(db):
    request, response = through_middleware(AnonymousUser())
    assert request.tenant is None
    assert response.content == b"the view"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN, Role.SUPER_ADMIN])
def test_a_request_acts_for_the_users_tenant(tenant_a, role):
    request, _ = through_middleware(make_user(tenant_a, role))
    assert request.tenant == tenant_a


def test_a_super_admins_request_acts_for_the_tenant_of_the_session(tenant_a, tenant_b):
    admin = make_user(tenant_a, Role.SUPER_ADMIN)
    request, _ = through_middleware(admin, {SESSION_KEY: tenant_b.pk})
    assert request.tenant == tenant_b
    assert active_tenant_for(request.user) == tenant_b  # for_user(user) sees it too, without the request


def test_a_session_tenant_that_is_gone_leaves_a_super_admin_in_their_own(tenant_a, tenant_b):
    admin = make_user(tenant_a, Role.SUPER_ADMIN)
    gone = Tenant.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    request, _ = through_middleware(admin, {SESSION_KEY: gone})
    assert request.tenant == tenant_a


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN])
def test_the_session_tenant_is_not_even_looked_up_for_anyone_else(tenant_a, tenant_b, role):
    """A session claiming another tenant (left from a demoted super admin, or forged) moves no one else."""
    member = make_user(tenant_a, role)
    with CaptureQueriesContext(connection) as queries:
        request, _ = through_middleware(member, {SESSION_KEY: tenant_b.pk})
    assert request.tenant == tenant_a
    assert active_tenant_for(request.user) == tenant_a
    table = Tenant._meta.db_table
    assert not [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def test_a_streamed_response_is_sent_whole(tenant_a):
    """A streamed export leaves the middleware readable (on PostgreSQL its rows are read in the request's tenant)."""
    streamed = StreamingHttpResponse(iter([b"row 1\n", b"row 2\n"]))
    _, response = through_middleware(make_user(tenant_a, Role.AUDITOR), response=streamed)
    assert response is streamed
    assert b"".join(response.streaming_content) == b"row 1\nrow 2\n"
