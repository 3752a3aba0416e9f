"""The revocation webhook: signed pushes to a real local HTTP receiver, retries with backoff, failure, the API path,
and its configuration command."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import io
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from authmon import registry
from authmon.models import Role
from jobs.models import JobLog
from sessions_grants import webhooks
from sessions_grants.models import DeliveryStatus, RevocationDelivery, RevocationWebhook, Session
from sessions_grants.services import session_revoke
from tests.api.conftest import make_client, record
from tests.authmon.test_log_views import login
from tests.conftest import make_user
from tests.samples import sample_record

SECRET = "test-signing-secret"


class Receiver:
    """A webhook receiver on 127.0.0.1 that checks each call's signature and answers with the queued statuses."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.calls: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                signature = self.headers.get("X-Authmon-Signature", "")
                receiver.calls.append(
                    {
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": json.loads(body),
                        "signature_ok": hmac.compare_digest(signature, expected),
                    }
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/revocations?token=abc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True  # the receivers listen on 127.0.0.1 (tests/security/ssrf/)
    settings.AUTHMON_WEBHOOK_MAX_ATTEMPTS = 3
    settings.AUTHMON_WEBHOOK_BACKOFF_SECONDS = 0
    settings.AUTHMON_WEBHOOK_TIMEOUT_SECONDS = 5


@pytest.fixture
def public_dns(monkeypatch):
    """``idp.example.com`` resolves to a public address without asking DNS (a saved URL is resolved and checked)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "idp.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("93.184.216.34", port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"  # nothing listens there any more: connection refused


def configure(tenant, url: str, **kwargs) -> RevocationWebhook:
    return webhooks.webhook_configure(tenant=tenant, actor="ops@example.com", url=url, secret=SECRET, **kwargs)


@pytest.fixture
def victim(tenant_a):
    until = timezone.now() + dt.timedelta(hours=8)
    common = {"email": "victim@example.com", "user_id": "123", "status": "active", "expires_at": until}
    sessions = [sample_record(registry.get("sessions"), tenant_a, "w", **common) for _ in range(2)]
    grant = sample_record(registry.get("grants"), tenant_a, "w", **common)
    return {"sessions": sessions, "grant": grant}


def test_signature_is_hmac_sha256_of_the_body():
    body = b'{"type":"revocations"}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert webhooks.webhook_signature(secret="k", body=body) == f"sha256={expected}"


def test_backoff_doubles_and_is_capped(settings):
    settings.AUTHMON_WEBHOOK_BACKOFF_SECONDS = 30
    assert [webhooks.backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhooks.backoff_seconds(20) == 3600


def test_console_revocation_is_pushed_signed(client, tenant_a, victim, receiver, django_capture_on_commit_callbacks):
    configure(tenant_a, receiver.url)
    session = victim["sessions"][0]
    login(client, tenant_a, Role.TENANT_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sessions:session_revoke", args=[session.pk]), {"comment": "stolen laptop"})
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    assert call["signature_ok"]
    assert call["headers"]["content-type"] == "application/json"
    assert call["headers"]["x-authmon-event"] == "revocations"
    assert call["headers"]["x-authmon-attempt"] == "1"
    body = call["body"]
    assert body["type"] == "revocations" and body["tenant"] == "acme" and body["attempt"] == 1
    assert body["delivery_id"] == call["headers"]["x-authmon-delivery"]
    session.refresh_from_db()
    assert body["revocations"] == [
        {
            "type": "session",
            "id": session.pk,
            "session_id": session.session_id,
            "user_id": "123",
            "email": "victim@example.com",
            "revoked_at": session.revoked_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        }
    ]
    delivery = RevocationDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.record_id) == (DeliveryStatus.DELIVERED, 1, session.pk)
    job = JobLog.objects.get(job_type="sync")
    assert job.latest_status == "success" and "Delivered 1 revocation" in job.message
    assert job.details["batch"] == body["delivery_id"]
    assert "token=abc" not in json.dumps(job.details)  # the URL's query string may hold a credential
    page = client.get(reverse("sessions:session_detail", args=[session.pk])).content.decode()
    assert 'data-status="delivered"' in page


def test_contain_account_is_one_push(client, tenant_a, victim, receiver, django_capture_on_commit_callbacks):
    configure(tenant_a, receiver.url)
    login(client, tenant_a, Role.TENANT_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("revoke_all", args=["victim@example.com"]), {"scope": "all"})
    assert len(receiver.calls) == 1 and receiver.calls[0]["signature_ok"]
    pushed = {(r["type"], r["id"]) for r in receiver.calls[0]["body"]["revocations"]}
    assert pushed == {("session", s.pk) for s in victim["sessions"]} | {("grant", victim["grant"].pk)}
    grant_item = next(r for r in receiver.calls[0]["body"]["revocations"] if r["type"] == "grant")
    assert grant_item["grant_id"] == victim["grant"].grant_id
    assert set(RevocationDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    user_page = client.get(reverse("user_view", args=["victim@example.com"])).content.decode()
    assert user_page.count('data-status="delivered"') == 3


def test_a_refused_delivery_is_retried_then_delivered(
    tenant_a, tenant_admin, victim, receiver, django_capture_on_commit_callbacks
):
    configure(tenant_a, receiver.url)
    receiver.answers = [503]
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=victim["sessions"][0], actor=tenant_admin)
    assert [c["headers"]["x-authmon-attempt"] for c in receiver.calls] == ["1", "2"]
    assert len({c["headers"]["x-authmon-delivery"] for c in receiver.calls}) == 1  # the receiver can deduplicate
    assert all(c["signature_ok"] for c in receiver.calls)
    first, second = JobLog.objects.filter(job_type="sync").order_by("pk")
    assert first.latest_status == "failed" and "HTTP 503" in first.message and "Retrying" in first.message
    assert second.latest_status == "success" and second.details["retry_of"] == first.job_id
    delivery = RevocationDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.job_id) == ("delivered", 2, second.job_id)


def test_retries_wait_with_exponential_backoff(
    tenant_a, tenant_admin, victim, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from sessions_grants.tasks import revocations_deliver_task

    settings.AUTHMON_WEBHOOK_BACKOFF_SECONDS = 30
    settings.AUTHMON_WEBHOOK_MAX_ATTEMPTS = 4
    configure(tenant_a, closed_port_url())
    queued: list[int] = []
    run_now = revocations_deliver_task.apply_async

    def spy(*args, **kwargs):
        queued.append(kwargs.get("countdown", 0))
        return run_now(*args, **kwargs)

    monkeypatch.setattr(revocations_deliver_task, "apply_async", spy)
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=victim["sessions"][0], actor=tenant_admin)
    assert queued == [0, 30, 60, 120]


def test_an_unreachable_webhook_ends_failed_and_loses_nothing(
    client, tenant_a, victim, django_capture_on_commit_callbacks
):
    configure(tenant_a, closed_port_url())
    session = victim["sessions"][0]
    login(client, tenant_a, Role.TENANT_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sessions:session_revoke", args=[session.pk]))
    assert response.status_code == 302
    runs = list(JobLog.objects.filter(job_type="sync").order_by("pk"))
    assert [r.latest_status for r in runs] == ["failed", "failed", "failed"]
    assert [r.details["attempt"] for r in runs] == [1, 2, 3]
    assert all("could not be reached" in r.message for r in runs)
    assert "Gave up after attempt 3 of 3" in runs[-1].message
    assert runs[0].stacktrace  # each run keeps its own record of what went wrong
    delivery = RevocationDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert "could not be reached" in delivery.last_error
    session.refresh_from_db()
    assert session.status == "revoked"  # the revocation itself stands
    feed = make_client(tenant_a, ["read"]).get("/api/v1/revocations/").json()["results"]
    assert [(r["type"], r["id"]) for r in feed] == [("session", session.pk)]
    page = client.get(reverse("sessions:session_detail", args=[session.pk])).content.decode()
    assert 'data-status="failed"' in page and "after 3 attempts" in page
    assert 'data-status="failed"' in client.get(reverse("user_view", args=["123"])).content.decode()


def test_no_webhook_no_push(client, tenant_a, victim, django_capture_on_commit_callbacks):
    login(client, tenant_a, Role.TENANT_ADMIN)
    session = victim["sessions"][0]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sessions:session_revoke", args=[session.pk]))
    assert not JobLog.objects.filter(job_type="sync").exists()
    assert not RevocationDelivery.objects.exists()
    page = client.get(reverse("sessions:session_detail", args=[session.pk])).content.decode()
    assert "no webhook configured" in page and "/api/v1/revocations/" in page


def test_a_disabled_webhook_is_not_called(tenant_a, tenant_admin, victim, receiver, django_capture_on_commit_callbacks):
    configure(tenant_a, receiver.url, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=victim["sessions"][0], actor=tenant_admin)
    assert receiver.calls == [] and not RevocationDelivery.objects.exists()


def test_another_tenants_webhook_is_not_called(
    tenant_a, tenant_b, tenant_admin, victim, receiver, django_capture_on_commit_callbacks
):
    configure(tenant_b, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=victim["sessions"][0], actor=tenant_admin)
    assert receiver.calls == []


def test_revocations_arriving_through_the_api_are_pushed(tenant_a, receiver, django_capture_on_commit_callbacks):
    configure(tenant_a, receiver.url)
    api = make_client(tenant_a, ["ingest", "read"])
    with django_capture_on_commit_callbacks(execute=True):
        api.ingest("sessions", [record("sessions", 0, session_id="s-1"), record("sessions", 1, session_id="s-2")])
    assert receiver.calls == []  # nothing revoked yet
    change = [{"session_id": "s-1", "protocol": "OIDC", "status": "revoked"}]
    born_revoked = [record("sessions", 2, session_id="s-3", status="revoked")]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.ingest("sessions", change).json()["updated"] == 1
        assert api.ingest("sessions", born_revoked).json()["created"] == 1
        assert api.ingest("sessions", change).json()["duplicates"] == 1  # the same news again: no second push
    pushed = [[r["session_id"] for r in c["body"]["revocations"]] for c in receiver.calls]
    assert pushed == [["s-1"], ["s-3"]]
    assert all(c["signature_ok"] for c in receiver.calls)
    assert RevocationDelivery.objects.filter(status="delivered").count() == 2


def test_webhook_removed_before_delivery_fails_without_calling(tenant_a, tenant_admin, victim, receiver):
    configure(tenant_a, receiver.url)
    session_revoke(session=victim["sessions"][0], actor=tenant_admin)  # queued; the run waits for the commit
    webhooks.webhook_remove(tenant=tenant_a, actor="ops@example.com")
    job = JobLog.objects.get(job_type="sync")
    from sessions_grants.tasks import revocations_deliver_task

    revocations_deliver_task.apply(args=[job.tenant_id, job.pk])
    assert receiver.calls == []
    assert RevocationDelivery.objects.get().status == "failed"
    assert JobLog.objects.filter(job_type="sync").count() == 1  # no retries against a webhook that is gone


# ---- configuration -------------------------------------------------------------------------------------------


def run(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("set_revocation_webhook", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_command_sets_a_webhook_and_prints_the_secret_last(tenant_a, public_dns):
    lines = run("--tenant", "acme", "--url", "https://idp.example.com/hooks/revocations")
    webhook = RevocationWebhook.objects.get(tenant=tenant_a)
    assert webhook.enabled and webhook.url == "https://idp.example.com/hooks/revocations"
    assert lines[-1] == webhook.secret and len(webhook.secret) >= 32
    created = AuditLog.objects.get(action="create TenantSettings")
    assert created.target == "revocation webhook" and created.new_entity["secret"] == "***"
    assert webhook.secret not in json.dumps(created.new_entity)

    assert run("--tenant", "acme", "--rotate-secret")[-1] != lines[-1]
    run("--tenant", "acme", "--disable")
    assert not RevocationWebhook.objects.get(tenant=tenant_a).enabled
    assert AuditLog.objects.filter(action="update TenantSettings").count() == 2
    run("--tenant", "acme", "--remove")
    assert not RevocationWebhook.objects.exists()
    assert AuditLog.objects.filter(action="delete TenantSettings").count() == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["--tenant", "nope", "--url", "https://x.example"], "No tenant"),
        (["--tenant", "acme"], "give --url"),
        (["--tenant", "acme", "--url", "ftp://files.example.com/x"], "URL"),
        (["--tenant", "acme", "--url", "not a url"], "URL"),
        (["--tenant", "acme", "--remove"], "no revocation webhook"),
    ],
)
def test_command_rejects_bad_input(tenant_a, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not RevocationWebhook.objects.exists()


def test_auditor_and_admin_see_no_secret(client, tenant_a, victim, tenant_admin, public_dns):
    configure(tenant_a, "https://idp.example.com/hook?key=sekrit")
    session_revoke(session=victim["sessions"][0], actor=tenant_admin)
    for role in (Role.AUDITOR, Role.TENANT_ADMIN):
        user = make_user(tenant_a, role, f"look-{role}@example.test")
        client.force_login(user)
        for url in (
            reverse("sessions:session_detail", args=[victim["sessions"][0].pk]),
            reverse("user_view", args=["123"]),
            reverse("jobs:joblog_list") + "?preset=all",
        ):
            body = client.get(url).content.decode()
            assert SECRET not in body and "sekrit" not in body
    assert Session.objects.get(pk=victim["sessions"][0].pk).status == "revoked"


def test_a_revocation_kept_against_ingest_is_not_pushed_again(
    tenant_a, tenant_admin, victim, receiver, django_capture_on_commit_callbacks
):
    configure(tenant_a, receiver.url)
    session = victim["sessions"][0]
    api = make_client(tenant_a, ["ingest"])
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=session, actor=tenant_admin)
    reactivate = [{"session_id": session.session_id, "protocol": session.protocol, "status": "active"}]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.ingest("sessions", reactivate).json()["kept_revoked"] == 1  # revoked is final (DESIGN 6)
    session.refresh_from_db()
    assert session.status == "revoked"
    assert not session_revoke(session=session, actor=tenant_admin)  # still revoked: nothing to revoke again
    assert [c["body"]["revocations"][0]["id"] for c in receiver.calls] == [session.pk]
    assert RevocationDelivery.objects.get().status == "delivered"


FORGED_CLAIM = "Delivered 1 revocation to https://forged.example/hook (HTTP 200)."


def delivery_links(page: str) -> list[str]:
    """The links inside the page's webhook-delivery cell."""
    cell = re.search(r'id="webhook-delivery">(.*?)</dd>', page, re.S)
    assert cell is not None
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', cell.group(1))]


def test_an_ingested_job_reusing_a_deliverys_job_id_is_not_shown_as_the_delivery(
    client, tenant_a, tenant_admin, victim, receiver, django_capture_on_commit_callbacks
):
    """Job records are ingestible and job_id is free text: the delivery links to authmon's own run by its key."""
    configure(tenant_a, receiver.url)
    receiver.answers = [503, 503, 503]
    session = victim["sessions"][0]
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=session, actor=tenant_admin)
    delivery = RevocationDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    real = JobLog.objects.get(job_id=delivery.job_id)
    forged = record(
        "jobs",
        0,
        job_id=delivery.job_id,
        job_name=webhooks.JOB_NAME,
        job_type="sync",
        latest_status="success",
        message=FORGED_CLAIM,
        created_at=timezone.now().isoformat(),
        updated_at=timezone.now().isoformat(),
    )
    assert make_client(tenant_a, ["ingest"]).ingest("jobs", [forged]).status_code == 201
    assert JobLog.objects.filter(job_id=delivery.job_id).count() == 2

    login(client, tenant_a, Role.TENANT_ADMIN)
    page = client.get(reverse("sessions:session_detail", args=[session.pk])).content.decode()
    assert 'data-status="failed"' in page and "forged.example" not in page
    assert delivery_links(page) == [reverse("jobs:joblog_detail", args=[real.pk])]
    for link in delivery_links(page):
        run_page = client.get(link).content.decode()
        assert "forged.example" not in run_page
        assert "HTTP 503" in run_page
    user_page = client.get(reverse("user_view", args=["123"])).content.decode()
    assert "forged.example" not in user_page
    assert f"job_id={delivery.job_id}" not in user_page


def test_the_delivery_task_runs_only_authmons_own_runs(tenant_a, tenant_admin, victim, receiver):
    """A delivery task handed the key of an ingested job record (pending, naming a real batch) sends nothing."""
    from sessions_grants.tasks import revocations_deliver_task

    configure(tenant_a, receiver.url)
    session_revoke(session=victim["sessions"][0], actor=tenant_admin)  # queued; the run waits for the commit
    delivery = RevocationDelivery.objects.get()
    batch = JobLog.objects.get(job_id=delivery.job_id).details["batch"]
    api = make_client(tenant_a, ["ingest"])
    forged = record("jobs", 0, job_id="forged-run", job_type="sync", latest_status="pending", details={"batch": batch})
    assert api.ingest("jobs", [forged]).status_code == 201
    ingested = JobLog.objects.get(job_id="forged-run")

    assert revocations_deliver_task.run(ingested.tenant_id, ingested.pk) is None
    assert receiver.calls == []
    ingested.refresh_from_db()
    assert ingested.latest_status == "pending"
    assert RevocationDelivery.objects.get().status == DeliveryStatus.PENDING
