"""Walk EVERY URL of the project as each role of tenant A (and with tenant A's API token), with tenant B's records
seeded with a canary string: no canary ever appears in a page, an API answer, an export or a download; B's
records answer 404 wherever they are addressed; POSTs aimed at B's records change nothing of B's.

The walk iterates the URL resolver. Every pattern needs a sample below: per-kind patterns are sampled generically
(by their view, from the registry), the others by URL name; a pattern with neither fails the test, so a new URL
cannot slip past the walk.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from audit.models import AuditLog
from authmon import exports, filestore, registry
from authmon.models import ApiToken, Role, Tenant
from jobs.models import JobLog
from jobs.runner import job_create
from jobs.services import run_file_record
from tests.conftest import PASSWORD, make_user
from tests.samples import sample_record

CANARY = "CANARY-b7e1c9"  # in every text field of tenant B's records; never seen by tenant A
PROBE = CANARY[:-2]  # what searches send: it finds B's values, yet an echo of the search is no canary
# B's identifiers that URLs carry are free of the canary, so that a page echoing its own URL is no leak.
B_IDS = {
    "email": "victim@globex.example",
    "user_id": "b-user-1",
    "client_id": "b-client",
    "client_name": "b-client",
    "client": "b-client",
    "session_id": "b-session-1",
    "grant_id": "b-grant-1",
}
OWN = "own-a"
ROLES = [Role.AUDITOR, Role.TENANT_ADMIN, Role.SUPER_ADMIN]
FOREIGN_STATUSES = {403, 404, 405}


@dataclass
class Pattern:
    route: str
    name: str  # namespaced URL name
    view: str  # the callback's name
    kind: str | None  # the registry kind a generated pattern serves


@dataclass
class Call:
    method: str
    path: str
    data: Any = None
    foreign: bool = False  # addresses one of tenant B's records: 403/404/405 only
    strict_404: bool = False  # ... and exactly 404 (details, API records)
    content_type: str | None = None
    note: str = ""


@dataclass
class World:
    a: Tenant
    b: Tenant
    own: dict[str, Any]
    foreign: dict[str, Any]
    # Tenant A's records that its actions (revoke, retry) act on, so that ``own`` stays as the lists show it by
    # default (an active session) for the walk's positive control.
    targets: dict[str, Any] = field(default_factory=dict)
    b_extra: list[models.Model] = field(default_factory=list)
    b_archive: bytes = b""
    b_rule: Any = None
    a_rule: Any = None


def patterns() -> Iterator[Pattern]:
    def walk(items: list[Any], prefix: str, namespace: str) -> Iterator[Pattern]:
        for item in items:
            if isinstance(item, URLResolver):
                inner = f"{namespace}{item.namespace}:" if item.namespace else namespace
                yield from walk(item.url_patterns, prefix + str(item.pattern), inner)
            elif isinstance(item, URLPattern):
                callback = item.callback
                view = getattr(callback, "__name__", None) or getattr(getattr(callback, "func", None), "__name__", "")
                kind = (item.default_args or {}).get("kind")
                yield Pattern(prefix + str(item.pattern), f"{namespace}{item.name}", view, kind.name if kind else None)

    yield from walk(get_resolver().url_patterns, "", "")


# ----------------------------------------------------------------------------------------------------- samples


def _pk_path(pattern: Pattern, pk: int) -> str:
    return "/" + pattern.route.replace("<int:pk>", str(pk))


def kind_samples(pattern: Pattern, world: World) -> list[Call] | None:
    """Samples for a pattern generated from the registry (list, details, columns, export, restore, record actions)."""
    kind = registry.get(pattern.kind)
    if "<int:pk>" in pattern.route:
        theirs, mine = world.foreign[kind.name], world.own[kind.name]
        if pattern.view != "detail_view":
            mine = world.targets[kind.name]
        calls = []
        for method in ("GET", "POST"):
            calls.append(
                Call(
                    method,
                    _pk_path(pattern, theirs.pk),
                    {"comment": "walk"},
                    foreign=True,
                    strict_404=method == "GET" and pattern.view == "detail_view",
                )
            )
            calls.append(Call(method, _pk_path(pattern, mine.pk), {"comment": "walk"}))
        return calls
    path = "/" + pattern.route
    if pattern.view == "list_view":
        return [
            Call("GET", path),
            Call("GET", path, {"preset": "all"}),
            Call("GET", path, {"preset": "all", "search": PROBE}),
            Call("GET", path, {"q": f"anything contains {PROBE}"}),
        ]
    if pattern.view == "columns_view":
        return [Call("POST", path, {"show": [c for c in kind.table.base_columns], "next": kind.list_url})]
    if pattern.view == "export_view":
        return [
            Call("GET", path, {"format": "json", "preset": "all"}),
            Call("GET", path, {"format": "csv", "preset": "all"}),
            Call("GET", path, {"format": "json", "preset": "all", "limit": "60000"}, note="export job confirmation"),
            Call("POST", f"{path}?format=json&preset=all&limit=60000", {}, note="export job"),
        ]
    if pattern.view in {view.__name__ for view in kind.bulk_actions.values()}:
        theirs, mine = world.foreign[kind.name], world.targets[kind.name]
        return [
            Call("GET", path, {"pk": [theirs.pk, mine.pk]}, note="confirmation naming B's record"),
            Call("GET", path, {"mode": "older", "older_than": "1", "preset": "all"}),
            Call("GET", path, {"mode": "older", "older_than": "1", "search": PROBE}),
            Call("POST", path, {"ids": str(theirs.pk), "comment": "walk"}, note="B's record alone"),
            Call("POST", path, {"ids": f"{theirs.pk},{mine.pk}", "comment": "walk"}, note="B's record among A's"),
        ]
    if pattern.view == "restore_view":
        upload = SimpleUploadedFile("b.json", world.b_archive, "application/json")
        return [Call("GET", path), Call("POST", path, {"archive": upload}, note="B's archive")]
    return None


def api_samples(pattern: Pattern, world: World) -> list[Call] | None:
    """Samples for the API patterns generated per kind: ingest, list, details, by-key status checks."""
    short = pattern.name.removeprefix("api:")
    for kind in registry.kinds():
        if not short.startswith(f"{kind.name}_"):
            continue
        op = short.removeprefix(f"{kind.name}_")
        path = "/" + pattern.route
        theirs = world.foreign[kind.name]
        if op == "ingest":
            return [Call("POST", path, "[]", content_type="application/json")]
        if op == "list":
            return [
                Call("GET", path),
                Call("GET", path, {"q": f"anything contains {PROBE}"}),
                Call("GET", path, {"limit": "1000"}),
            ]
        if op == "detail":
            return [
                Call("GET", path.replace("<int:record_id>", str(theirs.pk)), foreign=True, strict_404=True),
                Call("GET", path.replace("<int:record_id>", str(world.own[kind.name].pk))),
            ]
        if op.startswith("by_") and kind.upsert_key:
            converter = f"<path:{kind.upsert_key}>"
            return [
                Call("GET", path.replace(converter, getattr(theirs, kind.upsert_key)), foreign=True, strict_404=True),
                Call("GET", path.replace(converter, getattr(world.own[kind.name], kind.upsert_key))),
            ]
    return None


def _rule_calls(world: World, name: str, methods: tuple[str, ...]) -> list[Call]:
    calls = []
    if world.b_rule is None:
        return calls
    for method in methods:
        calls.append(Call(method, reverse(name, args=[world.b_rule.pk]), {"recipients": "x@a.example"}, foreign=True))
        calls.append(Call(method, reverse(name, args=[world.a_rule.pk])))
    return calls


def _token(tenant: Tenant) -> ApiToken:
    """A fresh API token of ``tenant``; tenant B's is named with the canary, so listing it to A would be seen."""
    return ApiToken.issue(tenant=tenant, scopes=["ingest"], name=CANARY if tenant.slug == "globex" else OWN)[0]


def _b_person(world: World) -> str:
    return world.foreign["events"].email


NAMED: dict[str, Callable[[World], list[Call]]] = {
    "home": lambda w: [Call("GET", reverse("home"))],
    "login": lambda w: [Call("GET", reverse("login"))],
    "favicon": lambda w: [Call("GET", reverse("favicon"))],
    "logout": lambda w: [Call("POST", reverse("logout"))],  # run last: it ends the session
    "tenant_switch": lambda w: [Call("POST", reverse("tenant_switch"), {"tenant": w.b.slug, "next": "/"})],
    "retention": lambda w: [Call("GET", reverse("retention"))],
    "api_tokens": lambda w: [
        Call("GET", reverse("api_tokens")),
        Call("GET", reverse("api_tokens"), {"confirm": str(_token(w.b).pk)}, foreign=True),
    ],
    "api_token_revoke": lambda w: [
        Call("POST", reverse("api_token_revoke", args=[_token(w.b).pk]), {"comment": "walk"}, foreign=True),
        Call("POST", reverse("api_token_revoke", args=[_token(w.a).pk]), {"comment": "walk"}),
        Call("GET", reverse("api_token_revoke", args=[_token(w.a).pk])),
    ],
    "user_view": lambda w: [
        Call("GET", reverse("user_view", args=[_b_person(w)])),
        Call("GET", reverse("user_view", args=[w.foreign["sessions"].user_id])),
    ],
    "revoke_all": lambda w: [
        Call("GET", reverse("revoke_all", args=[_b_person(w)])),
        Call("POST", reverse("revoke_all", args=[w.foreign["sessions"].email]), {"scope": "all"}),
        Call("POST", reverse("revoke_all", args=[w.foreign["sessions"].user_id]), {"scope": "all"}),
    ],
    "client_view": lambda w: [Call("GET", reverse("client_view", args=[w.foreign["sessions"].client_id]))],
    "audit_verify": lambda w: [Call("GET", reverse("audit_verify")), Call("POST", reverse("audit_verify"))],
    "insights:overview": lambda w: [Call("GET", reverse("insights:overview"))],
    "insights:rules": lambda w: [Call("GET", reverse("insights:rules"))],
    "insights:evaluate": lambda w: [Call("POST", reverse("insights:evaluate"))],
    "insights:rule_edit": lambda w: _rule_calls(w, "insights:rule_edit", ("GET", "POST")),
    "insights:rule_delete": lambda w: _rule_calls(w, "insights:rule_delete", ("POST",)),
    "insights:rule_rotate": lambda w: _rule_calls(w, "insights:rule_rotate", ("POST",)),
    "insights:settings": lambda w: [Call("GET", reverse("insights:settings"))],
    "insights:review": lambda w: [Call("GET", reverse("insights:review"))],
    "insights:review_note": lambda w: [Call("POST", reverse("insights:review_note"), {"note": "walk"})],
    "api:openapi-json": lambda w: [Call("GET", "/api/v1/openapi.json")],
    "api:openapi-view": lambda w: [Call("GET", "/api/v1/docs")],
    "api:api-root": lambda w: [Call("GET", "/api/v1/")],
    "api:not_found": lambda w: [Call("GET", "/api/v1/nothing-here/")],
    "api:revocations": lambda w: [
        Call("GET", "/api/v1/revocations/"),
        Call("GET", "/api/v1/revocations/", {"since": "2000-01-01T00:00:00Z"}),
    ],
    "api:notifications_bounces": lambda w: [
        Call(
            "POST",
            "/api/v1/notifications/bounces/",
            json.dumps(
                [{"id": w.foreign["notifications"].pk}, {"external_id": w.foreign["notifications"].external_id}]
            ),
            content_type="application/json",
        )
    ],
}


def samples_for(pattern: Pattern, world: World) -> list[Call] | None:
    if pattern.kind is not None:
        return kind_samples(pattern, world)
    if pattern.name in NAMED:
        return NAMED[pattern.name](world)
    if pattern.name.startswith("api:"):
        return api_samples(pattern, world)
    return None


# ----------------------------------------------------------------------------------------------------- seeding


def _snapshot(objs: list[models.Model]) -> list[dict[str, Any]]:
    state = []
    for obj in objs:
        fresh = type(obj)._default_manager.filter(pk=obj.pk).values().first()
        state.append(fresh)
    return state


@pytest.fixture
def world(tenant_a, tenant_b, settings, tmp_path) -> World:
    settings.AUTHMON_EXPORT_DIR = tmp_path / "exports"
    now = timezone.now()
    own, foreign = {}, {}
    for kind in registry.kinds():
        extra: dict[str, Any] = {"external_id": f"{kind.name}-shared-ext"}
        ids = {k: v for k, v in B_IDS.items() if k in {f.name for f in kind.data_fields}}
        foreign[kind.name] = sample_record(kind, tenant_b, CANARY, when=now - dt.timedelta(hours=2), **extra, **ids)
        own[kind.name] = sample_record(kind, tenant_a, OWN, when=now - dt.timedelta(hours=2), **extra)
    w = World(a=tenant_a, b=tenant_b, own=own, foreign=foreign)
    for kind in registry.kinds():
        if kind.record_actions or kind.bulk_actions:
            w.targets[kind.name] = sample_record(kind, tenant_a, OWN, when=now - dt.timedelta(hours=2))
    sessions = registry.get("sessions")
    w.b_extra.append(
        sample_record(sessions, tenant_b, CANARY, status="revoked", revoked_at=now - dt.timedelta(minutes=5))
    )
    # B's finished export, a real run of authmon with its file in B's store: its download must be B's alone.
    b_job = job_create(tenant=tenant_b, job_name="events export", job_type="export", details={"kind": "events"})
    JobLog.objects.filter(pk=b_job.pk).update(latest_status="success", job_name=CANARY)
    with filestore.file_write("export", tenant_b.pk, "json") as (out, place):
        out.write(f'{{"records": ["{CANARY}"]}}')
    run_file_record(
        run=b_job.console_run, written=filestore.file_seal(place), kind="events", purpose="export", records=1
    )
    w.b_extra.append(JobLog.objects.get(pk=b_job.pk))
    foreign["jobs"] = w.b_extra[-1]
    make_user(tenant_b, Role.SUPER_ADMIN, f"{CANARY.lower()}-admin@globex.example")
    kind = registry.get("audit")
    queryset = AuditLog.objects.for_tenant(tenant_b).order_by("-timestamp", "-pk")
    w.b_archive = "".join(
        exports.stream_json(kind, queryset, tenant_slug=tenant_b.slug, filters={}, limit=1000)
    ).encode()
    if apps.is_installed("insights"):
        from insights.models import AlertRule, Detection

        detection = Detection.values[0]
        w.b_rule = AlertRule.objects.create(tenant=tenant_b, detection=detection, recipients=f"{CANARY}@globex.example")
        w.a_rule = AlertRule.objects.create(tenant=tenant_a, detection=detection, recipients="sec@acme.example")
        w.b_extra.append(w.b_rule)
    return w


# -------------------------------------------------------------------------------------------------------- walk


def body_of(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


def test_every_url_has_a_sample(world):
    missing = [f"{p.name} ({p.route})" for p in patterns() if samples_for(p, world) is None]
    assert not missing, f"URL patterns without a sample in the URL walk: {missing}"


@dataclass
class Tally:
    patterns: set[str] = field(default_factory=set)
    requests: int = 0
    downloads: int = 0
    # (who, path) -> [(status, whether tenant A's own record is on it)], for every GET of one of A's addresses
    own_reads: dict[tuple[str, str], list[tuple[int, bool]]] = field(default_factory=dict)


def _send(client: Client, call: Call) -> Any:
    if call.method == "GET":
        return client.get(call.path, call.data or {})
    if call.content_type:
        return client.post(call.path, call.data, content_type=call.content_type)
    return client.post(call.path, call.data or {})


def _check(response: Any, call: Call, who: str) -> None:
    where = f"{who} {call.method} {call.path} {call.data if not isinstance(call.data, dict) else ''}"
    assert response.status_code < 500, where
    text = body_of(response)
    assert CANARY not in text, f"tenant B's canary leaked to {where}"
    assert CANARY not in response.get("Location", ""), where
    assert CANARY not in response.get("Content-Disposition", ""), where
    assert "no-store" in response.get("Cache-Control", ""), f"{where} may be stored by a browser or proxy"
    if call.foreign:
        assert response.status_code in FOREIGN_STATUSES, f"{where} answered {response.status_code}"
        if call.strict_404:
            assert response.status_code == 404, f"{where} answered {response.status_code}"


def _walk(client: Client, world: World, who: str, tally: Tally, *, api: bool, capture: Any) -> None:
    todo = [(p, c) for p in patterns() for c in samples_for(p, world) or []]
    todo.sort(key=lambda item: item[0].name == "logout")  # signing out ends the walk
    for pattern, call in todo:
        if call.path.startswith("/api/") != api:
            continue
        with capture(execute=True):
            response = _send(client, call)
        tally.patterns.add(pattern.name)
        tally.requests += 1
        if pattern.name == "tenant_switch" and who == Role.SUPER_ADMIN:
            # Super admins may switch tenant; then B's records are theirs to see (which proves the canary is
            # findable), and switching back hides them again.
            assert response.status_code == 302
            assert CANARY in body_of(client.get(registry.get("events").list_url, {"preset": "all"}))
            client.post(reverse("tenant_switch"), {"tenant": world.a.slug, "next": "/"})
            continue
        if pattern.name == "tenant_switch":
            call = Call(call.method, call.path, call.data, foreign=True)
        _check(response, call, who)
        if call.method == "GET" and not call.foreign:
            tally.own_reads.setdefault((who, call.path), []).append((response.status_code, OWN in body_of(response)))


def _own_pages_answered(tally: Tally, who: str, paths: list[str]) -> None:
    """The positive control of the walk: the role reads tenant A's own records on each of ``paths`` (in at least one
    of the walk's reads of it: a list's own session is revoked by then in the default view of active ones, and shown
    with every status). A walk that met only 403s and 404s would pass every isolation check while the console served
    nobody."""
    for path in paths:
        assert (who, path) in tally.own_reads, f"the walk never read {path} as {who}"
        reads = tally.own_reads[(who, path)]
        assert (200, True) in reads, f"{who} GET {path}: (status, own record shown) of each read: {reads}"


def test_no_canary_of_tenant_b_reaches_tenant_a(client, world, django_capture_on_commit_callbacks):
    before = _snapshot(list(world.foreign.values()) + world.b_extra)
    tally = Tally()
    for role in ROLES:
        console = Client()
        user = make_user(world.a, role, f"walk-{role}@acme.example")
        assert console.login(username=user.email, password=PASSWORD)
        _walk(console, world, role, tally, api=False, capture=django_capture_on_commit_callbacks)
        # every export this walk made for tenant A, downloaded
        for job in JobLog.objects.filter(tenant=world.a, job_type="export", latest_status="success"):
            relogin = Client()
            relogin.login(username=user.email, password=PASSWORD)
            download = relogin.get(reverse("jobs:joblog_download", args=[job.pk]))
            tally.requests += 1
            assert download.status_code in {200, 403}
            body = body_of(download)
            assert CANARY not in body
            tally.downloads += download.status_code == 200 and OWN in body
        _own_pages_answered(
            tally,
            role,
            [kind.list_url for kind in registry.kinds()]
            + [reverse(kind.url_name("detail"), args=[world.own[kind.name].pk]) for kind in registry.kinds()],
        )
    _, raw = ApiToken.issue(tenant=world.a, scopes=["ingest", "read"], name="walk")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    _walk(api, world, "api token", tally, api=True, capture=django_capture_on_commit_callbacks)
    _own_pages_answered(
        tally,
        "api token",
        [f"/api/v1/{kind.name}/" for kind in registry.kinds()]
        + [f"/api/v1/{kind.name}/{world.own[kind.name].pk}/" for kind in registry.kinds()],
    )
    assert _snapshot(list(world.foreign.values()) + world.b_extra) == before, "a request changed tenant B's records"
    every = {p.name for p in patterns()}
    assert tally.patterns == every
    assert tally.downloads >= 2, "the export jobs of both admin roles should have been downloaded"
    assert not AuditLog.objects.filter(tenant=world.a, action="restore AuditLog").exists(), "B's archive was taken"
    print(
        f"URL walk: {len(every)} URL patterns x {len(ROLES)} roles + API token, tenants A and B, "
        f"{tally.requests} requests"
    )


def test_a_canary_would_be_seen(client, world):
    """The walk can fail: tenant B's own admin sees B's canary on the very pages the walk checks."""
    user = make_user(world.b, Role.TENANT_ADMIN, "walk-b-admin@globex.example")
    assert client.login(username=user.email, password=PASSWORD)
    for kind in registry.kinds():
        assert CANARY in body_of(client.get(kind.list_url, {"preset": "all"})), kind.name
        assert CANARY in body_of(client.get(reverse(kind.url_name("detail"), args=[world.foreign[kind.name].pk])))
