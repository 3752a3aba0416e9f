"""Keys ready for distribution by tenant, and the indexes quick search needs (trigram ones on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

from authmon import registry
from authmon.selectors import _search_q

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: trigram indexes")

# Global by design (docs/scaling.md section 5): sign-in finds the tenant from these.
GLOBAL_KEYS = {("authmon", "tenant"), ("authmon", "user"), ("authmon", "apitoken")}


APPS = {"authmon", "audit", "events", "jobs", "notifications", "sessions_grants", "insights"}


def tenant_owned_models():
    for model in apps.get_models():
        if model._meta.app_label in APPS and any(f.name == "tenant" for f in model._meta.concrete_fields):
            yield model


def test_every_tenant_owned_unique_key_includes_the_tenant():
    checked = 0
    for model in tenant_owned_models():
        if (model._meta.app_label, model._meta.model_name) in GLOBAL_KEYS:
            continue
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                checked += 1
                assert "tenant" in constraint.fields, f"{model.__name__}: {constraint.name} lacks the tenant"
        for f in model._meta.concrete_fields:
            if f.unique and not f.primary_key and f.name != "tenant":
                pytest.fail(f"{model.__name__}.{f.name} is unique without the tenant")
        assert not model._meta.unique_together, model.__name__
    assert checked >= 10  # the six kinds' external_id keys, sessions, grants, audit chain, insights, deliveries


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny test table would otherwise rightly be scanned
        return queryset.order_by().explain()


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind,column,index",
    [
        ("audit", "action", "audit_action_trgm"),
        ("audit", "target", "audit_target_trgm"),
        ("audit", "actor", "audit_actor_trgm"),
        ("audit", "subject", "audit_subject_trgm"),
        ("audit", "comments", "audit_comments_trgm"),
        ("jobs", "job_name", "jobs_name_trgm"),
        ("grants", "email", "grant_email_trgm"),
    ],
)
def test_contains_searches_use_a_trigram_index(kind, column, index):
    model = registry.get(kind).model
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [index])
        assert "gin_trgm_ops" in cursor.fetchone()[0]
    plan = _plan(model.objects.filter(**{f"{column}__icontains": "mallory"}))
    # the index is on the expression icontains compiles to (a text column needs no cast), so LIKE is its condition
    assert "Seq Scan" not in plan
    assert f"upper(({column})::text) ~~ '%MALLORY%'::text)" in plan or f"upper({column}) ~~ '%MALLORY%'::text)" in plan
    assert "Index Cond" in plan or "Recheck Cond" in plan


@postgres_only
@pytest.mark.django_db
def test_the_audit_quick_search_uses_an_index_for_every_field_of_its_or():
    kind = registry.get("audit")
    plan = _plan(kind.model.objects.filter(_search_q(kind, "mallory")))
    assert "BitmapOr" in plan and "Seq Scan" not in plan
    for column in kind.search_fields:
        assert f"audit_{column}_trgm" in plan


@postgres_only
@pytest.mark.django_db
def test_the_sessions_quick_search_is_an_exact_match_on_a_btree(tenant_a):
    kind = registry.get("sessions")
    kind.model.objects.bulk_create(
        kind.model(tenant=tenant_a, session_id=f"s-{n}", protocol="OIDC", user_id=f"u-{n % 50}", client_id="app")
        for n in range(500)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sessions_grants_session")
    plan = _plan(kind.model.objects.for_tenant(tenant_a).filter(_search_q(kind, "u-123")))
    assert "session_tenant_user" in plan
