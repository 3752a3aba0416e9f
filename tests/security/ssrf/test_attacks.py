"""SSRF through outbound webhooks (issue 14, finding 4), tried as the attacker would: at save time, at send time.

A tenant admin points an alert-rule webhook (the console form) or an operator points the revocation webhook (the
management command) at loopback, a private network, the cloud metadata address or an odd spelling of 127.0.0.1,
plants such a URL in a row saved before the fix, rebinds a name between save and send, or answers with a redirect.
authmon refuses at save time and again at send time, connects only to the address it checked, never follows a
redirect, and shows users a generic status, never the connection error that made the rule page a port scanner.

Network rule of these tests: they only ever reach loopback. A guard wraps ``socket.socket.connect`` for every test
here and blocks (and records) any other destination, so even the code before the fix sends nothing outside; names
are resolved by a stand-in for ``socket.getaddrinfo``, never by real DNS.
"""

from __future__ import annotations

import socket

import pytest
from django.core.management import CommandError
from django.urls import reverse

from authmon import registry
from authmon.models import Role
from insights.alerts import alerts_evaluate
from insights.models import AlertMark, AlertRule
from jobs.models import JobLog
from sessions_grants.models import RevocationDelivery, RevocationWebhook
from sessions_grants.services import session_revoke
from tests.conftest import make_user
from tests.security.ssrf.harness import (
    ATTACK_HOSTS,
    LEAKS,
    PUBLIC,
    REBOUND,
    Trap,
    admin_client,
    assert_nothing_reached,
    attack_url,
    brute_force,
    command,
    planted_rule,
    post_rule,
    victim_session,
)

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------------- save time


@pytest.mark.parametrize("host", ATTACK_HOSTS)
def test_alert_rule_form_refuses_internal_targets(client, tenant_a, guard, trap, trap6, host):
    admin_client(client, tenant_a)
    response = post_rule(client, attack_url(host, trap, trap6))
    assert response.status_code == 400
    page = response.content.decode()
    assert "not allowed" in page
    assert not AlertRule.objects.exists()
    assert_nothing_reached(guard, trap, trap6)


def test_alert_rule_edit_refuses_an_internal_target(client, tenant_a, guard, trap, resolver):
    resolver.names[REBOUND] = [[PUBLIC]]
    admin_client(client, tenant_a)
    assert post_rule(client, f"http://{REBOUND}/hook").status_code == 302
    rule = AlertRule.objects.get()
    response = client.post(
        reverse("insights:rule_edit", args=[rule.pk]),
        {"detection": rule.detection, "webhook_url": trap.url(), "cooldown_minutes": 60, "enabled": "on"},
    )
    assert response.status_code == 400 and "not allowed" in response.content.decode()
    rule.refresh_from_db()
    assert rule.webhook_url == f"http://{REBOUND}/hook"
    assert_nothing_reached(guard, trap)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:99999/hook",  # a port out of range
        "http://user:pw@127.0.0.1/hook",
        "http://[::1/hook",
        "http://\u0000/",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "file:///etc/passwd",
        "http://xn--/hook",
    ],
)
def test_alert_rule_form_answers_bad_addresses_with_a_form_error(client, tenant_a, url):
    admin_client(client, tenant_a)
    response = post_rule(client, url)
    assert response.status_code == 400
    assert not AlertRule.objects.exists()


def test_a_name_resolving_to_loopback_among_public_addresses_is_refused(client, tenant_a, resolver):
    resolver.names["mixed.customer-a.test"] = [[PUBLIC, "127.0.0.1"]]
    admin_client(client, tenant_a)
    response = post_rule(client, "https://mixed.customer-a.test/hook")
    assert response.status_code == 400 and "not allowed" in response.content.decode()
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize("host", ATTACK_HOSTS)
def test_revocation_webhook_command_refuses_internal_targets(tenant_a, guard, trap, trap6, host):
    with pytest.raises(CommandError, match="not allowed"):
        command("--tenant", "acme", "--url", attack_url(host, trap, trap6))
    assert not RevocationWebhook.objects.exists()
    assert_nothing_reached(guard, trap, trap6)


def test_metadata_stays_refused_when_private_targets_are_allowed(client, tenant_a, settings, trap):
    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True
    admin_client(client, tenant_a)
    for host in ("169.254.169.254", "[fd00:ec2::254]", "[fe80::1]", "224.0.0.1", "0.0.0.0"):  # noqa: S104
        response = post_rule(client, trap.url(host))
        assert response.status_code == 400 and "not allowed" in response.content.decode(), host
    with pytest.raises(CommandError, match="not allowed"):
        command("--tenant", "acme", "--url", "http://169.254.169.254/latest/meta-data/")
    assert not AlertRule.objects.exists() and not RevocationWebhook.objects.exists()


# ---------------------------------------------------------------------------------------------------- send time


@pytest.mark.parametrize("host", ATTACK_HOSTS)
def test_alert_webhook_planted_before_the_fix_is_refused_at_send(client, tenant_a, guard, trap, trap6, host):
    rule = planted_rule(tenant_a, attack_url(host, trap, trap6))
    brute_force(tenant_a)
    report = alerts_evaluate(tenant=tenant_a)
    assert report.sent == 1  # the e-mail still goes out
    assert_nothing_reached(guard, trap, trap6)
    status = AlertMark.objects.get(rule=rule).webhook_status
    assert status == "refused: the address is not allowed"
    admin_client(client, tenant_a)
    page = client.get(reverse("insights:rule_edit", args=[rule.pk])).content.decode()
    assert "refused: the address is not allowed" in page


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "0x7f000001", "localhost", "169.254.169.254", "10.0.0.1"])
def test_revocation_webhook_planted_before_the_fix_is_refused_at_send(
    tenant_a, tenant_admin, guard, trap, trap6, host, django_capture_on_commit_callbacks
):
    RevocationWebhook.objects.create(tenant=tenant_a, url=attack_url(host, trap, trap6), secret="s" * 32)
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=victim_session(tenant_a), actor=tenant_admin)
    assert_nothing_reached(guard, trap, trap6)
    delivery = RevocationDelivery.objects.get()
    assert delivery.status == "failed" and "not allowed" in delivery.last_error
    for run in JobLog.objects.filter(job_type="sync"):
        assert run.latest_status == "failed" and "not allowed" in run.message
        assert not any(leak in run.message + run.stacktrace for leak in LEAKS)


def test_dns_rebinding_after_save_is_refused_at_send(client, tenant_a, guard, trap, resolver):
    """The name resolves to a public address when the rule is saved, then to 127.0.0.1: nothing reaches the trap.

    At send time the first resolution still gives the public address and every later one gives loopback: a client
    that checks one resolution and then resolves again to connect would reach the trap; authmon connects to the
    address it checked (here blocked by the test's guard, as every non-loopback address is) and refuses the rest.
    """
    resolver.names[REBOUND] = [[PUBLIC]]
    admin_client(client, tenant_a)
    assert post_rule(client, f"http://{REBOUND}:{trap.port}/hook").status_code == 302
    rule = AlertRule.objects.get()
    resolver.names[REBOUND] = [[PUBLIC], ["127.0.0.1"]]  # then loopback, for good
    brute_force(tenant_a)
    alerts_evaluate(tenant=tenant_a)
    assert trap.requests == [] and trap.port not in {p for h, p in guard.attempts if h != PUBLIC}
    assert set(guard.blocked) <= {PUBLIC}  # the only address ever tried is the one that was checked
    assert AlertMark.objects.get(rule=rule).webhook_status == "refused: the address is not allowed"


def test_redirects_are_not_followed(client, tenant_a, settings, guard, django_capture_on_commit_callbacks):
    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True  # the first hop is a local (allowed) receiver
    with Trap() as inner, Trap(status=302, location=f"http://127.0.0.1:{inner.port}/admin?x=1") as outer:
        admin_client(client, tenant_a)
        assert post_rule(client, outer.url()).status_code == 302
        brute_force(tenant_a)
        alerts_evaluate(tenant=tenant_a)
        RevocationWebhook.objects.create(tenant=tenant_a, url=outer.url("localhost"), secret="s" * 32)
        with django_capture_on_commit_callbacks(execute=True):
            session_revoke(session=victim_session(tenant_a), actor=make_user(tenant_a, Role.TENANT_ADMIN))
        assert inner.requests == [] and inner.port not in guard.ports()
        assert [r[0] for r in outer.requests] == ["POST", "POST", "POST"]  # alert once (no retry), revocation twice
    status = AlertMark.objects.get().webhook_status
    assert "redirect" in status and "not followed" in status
    delivery = RevocationDelivery.objects.get()
    assert delivery.status == "failed" and "redirects are not followed" in delivery.last_error


def test_connection_errors_never_reach_the_rule_page_or_job_records(
    client, tenant_a, settings, django_capture_on_commit_callbacks
):
    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True  # reach the local closed port: the error is what is tested
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    admin_client(client, tenant_a)
    assert post_rule(client, f"http://127.0.0.1:{closed}/hook").status_code == 302
    rule = AlertRule.objects.get()
    brute_force(tenant_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("insights:evaluate"))
    status = AlertMark.objects.get(rule=rule).webhook_status
    assert status == "failed after 3 attempts: the webhook could not be reached"
    page = client.get(reverse("insights:rule_edit", args=[rule.pk])).content.decode()
    assert "the webhook could not be reached" in page
    run = JobLog.objects.get(job_name="security alert evaluation")
    jobs_page = client.get(reverse(registry.get("jobs").url_name("detail"), args=[run.pk])).content.decode()
    for text in (page, run.message, run.stacktrace, jobs_page):
        assert not any(leak in text for leak in LEAKS)

    RevocationWebhook.objects.create(tenant=tenant_a, url=f"http://127.0.0.1:{closed}/hook", secret="s" * 32)
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=victim_session(tenant_a), actor=make_user(tenant_a, Role.TENANT_ADMIN))
    delivery = RevocationDelivery.objects.get()
    assert delivery.status == "failed" and "could not be reached" in delivery.last_error
    for run in JobLog.objects.filter(job_type="sync"):
        assert not any(leak in run.message + run.stacktrace + delivery.last_error for leak in LEAKS)


# ---------------------------------------------------------------------------------------------------- allowed


def test_private_targets_work_when_the_setting_allows_them(client, tenant_a, settings, trap):
    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True
    admin_client(client, tenant_a)
    assert post_rule(client, trap.url()).status_code == 302
    brute_force(tenant_a)
    alerts_evaluate(tenant=tenant_a)
    assert [(r[0], r[1]) for r in trap.requests] == [("POST", "/hook")]
    assert trap.requests[0][2]["Host"] == f"127.0.0.1:{trap.port}"
    assert AlertMark.objects.get().webhook_status == "delivered (HTTP 200) after 1 attempt"
    lines = command("--tenant", "acme", "--url", trap.url("localhost", "/revocations"))
    assert RevocationWebhook.objects.get().url.startswith("http://localhost:") and lines[-1]


def test_a_public_target_is_accepted_and_reached_at_its_checked_address(client, tenant_a, guard, resolver):
    resolver.names["hooks.customer-a.test"] = [[PUBLIC]]
    admin_client(client, tenant_a)
    assert post_rule(client, "https://hooks.customer-a.test/alerts").status_code == 302
    brute_force(tenant_a)
    alerts_evaluate(tenant=tenant_a)
    assert guard.blocked == [PUBLIC] * 3  # tried (and here blocked by the test's guard) three times
    assert AlertMark.objects.get().webhook_status == "failed after 3 attempts: the webhook could not be reached"
