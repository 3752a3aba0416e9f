"""The role table (DESIGN section 4) as authmon.permissions answers it: every permission, for every kind and role,
stated here independently of the code's table, plus who is refused everything (anonymous, inactive, unknown
combinations). The module is on the mutation check's list (docs/testing.md): these tests are what kills its mutants.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from authmon import registry
from authmon.models import Role
from authmon.permissions import Perm, has_perm

AUDITOR, ADMIN, SUPER = Role.AUDITOR, Role.TENANT_ADMIN, Role.SUPER_ADMIN
ADMINS = {ADMIN, SUPER}
EVERYONE = {AUDITOR, ADMIN, SUPER}
KINDS = ["audit", "events", "jobs", "notifications", "sessions", "grants"]


def expected(perm: Perm, kind: str | None) -> set[str]:
    """Who may, written from DESIGN section 4 (and the guide's retry, verify, alerts, reviews, API tokens)."""
    if perm == Perm.VIEW:
        return EVERYONE
    if perm == Perm.EXPORT:
        return {SUPER} if kind == "audit" else ADMINS
    if perm == Perm.REVOKE:
        return ADMINS if kind in {"sessions", "grants"} else set()
    if perm in (Perm.RESTORE, Perm.VERIFY):
        return {SUPER} if kind == "audit" else set()
    if perm == Perm.RETRY:
        return ADMINS if kind == "jobs" else set()
    if perm in (Perm.SWITCH_TENANT, Perm.SET_RETENTION, Perm.MANAGE_API_TOKENS):
        return {SUPER}
    if perm in (Perm.MANAGE_ALERTS, Perm.RECORD_REVIEW):
        return ADMINS
    raise AssertionError(f"a permission this test does not know: {perm}")


def user(role: str, *, authenticated: bool = True, active: bool = True) -> SimpleNamespace:
    return SimpleNamespace(role=role, is_authenticated=authenticated, is_active=active)


def test_the_kinds_are_the_six_of_design():
    assert sorted(k.name for k in registry.kinds()) == sorted(KINDS)


@pytest.mark.parametrize("perm", list(Perm))
@pytest.mark.parametrize("kind", [None, *KINDS])
def test_every_permission_for_every_kind_and_role(perm, kind):
    allowed = {role for role in EVERYONE if has_perm(user(role), perm, kind)}
    assert allowed == expected(perm, kind), (perm, kind)


@pytest.mark.parametrize("perm", list(Perm))
def test_the_permission_may_be_named_by_its_string(perm):
    assert has_perm(user(SUPER), perm.value, "audit") == has_perm(user(SUPER), perm, "audit")


@pytest.mark.parametrize("role", sorted(EVERYONE))
@pytest.mark.parametrize(
    "who",
    [
        {"authenticated": False},  # a session that never signed in, whatever role a forged object claims
        {"active": False},  # a deactivated account keeps its role but may do nothing
    ],
    ids=["anonymous", "inactive"],
)
def test_anonymous_and_inactive_users_may_do_nothing(role, who):
    for perm in Perm:
        for kind in [None, *KINDS]:
            assert not has_perm(user(role, **who), perm, kind), (perm, kind)


def test_an_object_without_the_user_attributes_may_do_nothing():
    assert not has_perm(SimpleNamespace(role=SUPER), Perm.VIEW)
    assert not has_perm(SimpleNamespace(role=SUPER, is_authenticated=True), Perm.VIEW)
    assert not has_perm(SimpleNamespace(role=SUPER, is_active=True), Perm.VIEW)
    assert not has_perm(None, Perm.VIEW)


def test_an_unknown_kind_gets_only_the_any_kind_rules():
    assert has_perm(user(ADMIN), Perm.EXPORT, "not-a-kind")
    assert not has_perm(user(SUPER), Perm.REVOKE, "not-a-kind")
    assert not has_perm(user(SUPER), Perm.RESTORE, "events")
    assert not has_perm(user(SUPER), Perm.RETRY, "audit")


def test_an_unknown_permission_is_an_error_not_a_yes():
    with pytest.raises(ValueError):
        has_perm(user(SUPER), "delete_everything")
    with pytest.raises(ValueError):
        has_perm(user(SUPER), "delete_everything", "audit")


def test_an_unknown_role_may_do_nothing():
    for perm in Perm:
        assert not has_perm(user("owner"), perm, "audit")
