"""Secrets are masked before storage: audit snapshots and diffs, ingested details, the demo data."""

from __future__ import annotations

import pytest
from django.db import models

from audit.models import AuditLog
from audit.services import audit_record
from authmon import registry
from authmon.ingest import records_ingest
from authmon.security.masking import MASK, is_sensitive, mask
from console.demo import demo_data_load

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "Password",
        "db_password",
        "client_secret",
        "clientSecret",
        "client-secret",
        "webhook_secret",
        "refresh_token",
        "accessToken",
        "private_key",
        "privateKey",
        "api_key",
        "X-Api-Key",
        "Authorization",
        "client_secret__added",
        "password__deleted",
        "credentials",
    ],
)
def test_sensitive_keys(key):
    assert is_sensitive(key)


@pytest.mark.parametrize(
    "key", ["name", "token_lifetime", "password_policy", "secret_rotation_days", "tokens_issued", "scopes", "", 5]
)
def test_ordinary_keys(key):
    assert not is_sensitive(key)


def test_mask_keeps_shape_flags_and_ordinary_values():
    value = {
        "name": "Google",
        "client_secret": "s3cr3t",
        "config": {"password": 1234, "timeout": 30, "refresh_token": True, "api_key": None, "token": ""},
        "credentials": {"user": "svc", "keys": ["k1", "k2"], "enabled": False},
        "list": [{"secret": "x"}, "plain", JWT, "Bearer abc.def", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END"],
    }
    assert mask(value) == {
        "name": "Google",
        "client_secret": MASK,
        "config": {"password": MASK, "timeout": 30, "refresh_token": True, "api_key": None, "token": ""},
        "credentials": {"user": MASK, "keys": [MASK, MASK], "enabled": False},
        "list": [{"secret": MASK}, "plain", MASK, MASK, MASK],
    }
    assert mask(mask(value)) == mask(value)
    assert value["client_secret"] == "s3cr3t", "mask returns a copy"


def test_the_key_list_is_configurable(settings):
    settings.AUTHMON_SENSITIVE_KEYS = ["pin"]
    assert mask({"pin": "1234", "password": "x"}) == {"pin": MASK, "password": "x"}


def test_audit_record_stores_masked_snapshots_and_diff(tenant_a):
    record = audit_record(
        tenant=tenant_a,
        actor="admin@acme.example",
        action="update Application",
        old={"name": "CRM", "client_secret": "old-secret"},
        new={"name": "CRM 2", "client_secret": "new-secret", "private_key": "-----BEGIN..."},
    )
    stored = AuditLog.objects.get(pk=record.pk)
    assert stored.old_entity == {"name": "CRM", "client_secret": MASK}
    assert stored.new_entity["private_key"] == MASK
    assert stored.diff == {"name": {"_old": "CRM", "_new": "CRM 2"}, "private_key__added": MASK}
    assert "secret" not in str(stored.diff).replace("client_secret", "").replace("private_key", "")
    assert "old-secret" not in str(AuditLog.objects.filter(pk=record.pk).values().get())


def test_objects_create_masks_too(tenant_a):
    stored = AuditLog.objects.create(tenant=tenant_a, action="create Secret", new_entity={"value": JWT, "token": "t"})
    assert AuditLog.objects.get(pk=stored.pk).new_entity == {"value": MASK, "token": MASK}


def test_ingest_masks_every_kind_json(tenant_a):
    records_ingest(
        kind="events",
        tenant=tenant_a,
        records=[
            {"event_type": "login", "details": {"password": "hunter2", "ip": "1.2.3.4", "nested": {"id_token": JWT}}}
        ],
    )
    records_ingest(
        kind="audit",
        tenant=tenant_a,
        records=[{"action": "update Secret", "old_entity": {"secret": "a"}, "new_entity": {"secret": "b"}}],
    )
    event = registry.get("events").model.objects.get(tenant=tenant_a)
    assert event.details == {"password": MASK, "ip": "1.2.3.4", "nested": {"id_token": MASK}}
    audit = AuditLog.objects.get(tenant=tenant_a, action="update Secret")
    assert (audit.old_entity, audit.new_entity, audit.diff) == ({"secret": MASK}, {"secret": MASK}, {})


def _leaks(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            if is_sensitive(key) and item not in (MASK, None, "", True, False) and not isinstance(item, (dict, list)):
                yield f"{path}.{key}={item!r}"
            yield from _leaks(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _leaks(item, path)


def test_demo_data_holds_no_secrets(db):
    demo_data_load(tenants=1, rows=600)
    leaks = []
    for kind in registry.kinds():
        json_fields = [f.name for f in kind.model._meta.concrete_fields if isinstance(f, models.JSONField)]
        for row in kind.model.objects.values(*json_fields).iterator():
            for name, value in row.items():
                leaks.extend(f"{kind.name}.{name}{leak}" for leak in _leaks(value))
    assert not leaks, leaks[:10]
