"""The record shape of sessions and grants is a contract (DESIGN section 5): exports, the API schema and the CSV
list the fields in this order. The two models share their fields through ``access_state_fields()``, whose place in
each class body keeps this order; an abstract base holding the fields would move them first."""

import pytest

from authmon import registry

DESIGN_ORDER = {
    "sessions": [
        "session_id",
        "protocol",
        "client_id",
        "user_id",
        "email",
        "created_at",
        "expires_at",
        "status",
        "details",
    ],
    "grants": [
        "grant_id",
        "email",
        "user_id",
        "provider",
        "client",
        "session_id",
        "created_at",
        "expires_at",
        "status",
        "details",
    ],
}


@pytest.mark.parametrize("name", sorted(DESIGN_ORDER))
def test_fields_in_design_order(name):
    kind = registry.get(name)
    fields = [f.name for f in kind.data_fields if f.name not in {"external_id", "revoked_at"}]
    assert fields == DESIGN_ORDER[name]


@pytest.mark.parametrize("name", sorted(DESIGN_ORDER))
def test_shared_fields_are_not_shared_instances(name):
    """Each model owns its own field objects (a field bound to two models would answer for the wrong one)."""
    kind = registry.get(name)
    for field in kind.data_fields:
        assert field.model is kind.model
