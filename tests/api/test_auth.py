"""Bearer tokens, scopes, CSRF and tenant isolation of every API endpoint."""

from __future__ import annotations

import pytest
from django.utils import timezone

from authmon import registry
from authmon.models import ApiToken
from tests.api.conftest import KINDS, ApiClient, make_client, record


def read_paths(kind: str, record_id: int = 1) -> list[str]:
    paths = [f"/api/v1/{kind}/", f"/api/v1/{kind}/{record_id}/"]
    key = registry.get(kind).upsert_key
    if key:
        paths.append(f"/api/v1/{kind}/by-{key.replace('_', '-')}/some-key/")
    return paths


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (None, "Authorization: Bearer"),
        ("Bearer", "form 'Bearer <token>'"),
        ("Basic dXNlcjpwYXNz", "form 'Bearer <token>'"),
        ("Bearer amt_not-a-real-token", "unknown or has been revoked"),
        ("Bearer " + "x" * 500, "unknown or has been revoked"),
    ],
)
def test_401_without_a_valid_token(db, kind, header, fragment):
    client = ApiClient(HTTP_AUTHORIZATION=header) if header else ApiClient()
    for response in [client.ingest(kind, [record(kind)]), *(client.get(p) for p in read_paths(kind))]:
        assert response.status_code == 401
        assert fragment in response.json()["detail"]
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/revocations/").status_code == 401
    assert registry.get(kind).model.objects.count() == 0


def test_a_revoked_token_is_401(tenant_a):
    token, raw = ApiToken.issue(tenant=tenant_a, scopes=["read"])
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert ApiClient(raw).list("events").status_code == 401


@pytest.mark.parametrize("kind", KINDS)
def test_403_without_the_scope(tenant_a, kind):
    read_only = make_client(tenant_a, ["read"])
    response = read_only.ingest(kind, [record(kind)])
    assert response.status_code == 403
    assert "'ingest' scope" in response.json()["detail"]
    assert registry.get(kind).model.objects.count() == 0

    ingest_only = make_client(tenant_a, ["ingest"])
    for path in [*read_paths(kind), "/api/v1/revocations/"]:
        response = ingest_only.get(path)
        assert response.status_code == 403, path
        assert "'read' scope" in response.json()["detail"]


def test_post_with_a_bearer_token_needs_no_csrf_token(tenant_a):
    client = make_client(tenant_a, ["ingest"], enforce_csrf_checks=True)
    assert client.ingest("events", [record("events")]).status_code == 201


def test_the_api_does_not_redirect_to_the_console_login(db):
    response = ApiClient().get("/api/v1/events/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("kind", KINDS)
def test_another_tenant_sees_none_of_it(api_a, api_b, kind):
    key = registry.get(kind).upsert_key
    values = {key: "shared-key"} if key else {}
    assert (
        api_a.ingest(
            kind,
            [
                record(kind, 0, external_id="mine", status="revoked", **values)
                if key
                else record(kind, 0, external_id="mine")
            ],
        ).status_code
        == 201
    )
    [mine] = api_a.list(kind).json()["results"]

    assert api_b.list(kind).json()["results"] == []
    assert api_b.list(kind, external_id="mine").json()["results"] == []
    assert api_b.list(kind, id=mine["id"]).json()["results"] == []
    for path in read_paths(kind, mine["id"]):
        if "by-" in path:
            path = path.replace("some-key", "shared-key")
        elif path.endswith("/api/v1/" + kind + "/"):
            continue
        assert api_a.get(path).status_code == 200
        assert api_b.get(path).status_code == 404
    assert api_b.get("/api/v1/revocations/").json()["results"] == []

    # the same keys in tenant B are B's own, not duplicates or updates of A's rows
    again = record(kind, 0, external_id="mine", **values)
    assert api_b.ingest(kind, [again]).json() == {"created": 1, "duplicates": 0, "updated": 0, "kept_revoked": 0}
    assert registry.get(kind).model.objects.count() == 2
