"""SSRF through outbound webhooks (issue 14, finding 4), tried as the attacker would.

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

import datetime as dt
import io
import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from authmon import registry
from authmon.models import Role
from events.models import EventLog
from insights.alerts import alert_rule_create, alerts_evaluate
from insights.models import AlertMark, AlertRule, Detection
from jobs.models import JobLog
from sessions_grants.models import RevocationDelivery, RevocationWebhook
from sessions_grants.services import session_revoke
from tests.conftest import PASSWORD, make_user
from tests.samples import sample_record

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"  # what a customer's webhook host resolves to at save time (never actually reached)
REBOUND = "hooks.customer-a.test"

# Every spelling of "not the internet" an attacker tries; the port is the local trap's.
LOOPBACK_HOSTS = ["127.0.0.1", "[::1]", "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "localhost"]
INTERNAL_HOSTS = [
    "169.254.169.254",
    "10.0.0.1",
    "192.168.1.1",
    "172.16.5.4",
    "0.0.0.0",  # noqa: S104 (an attack value, not a bind address)
    "[::ffff:127.0.0.1]",
    "[fd00:ec2::254]",
    "100.64.0.1",
]
ATTACK_HOSTS = LOOPBACK_HOSTS + INTERNAL_HOSTS
# Words of the low-level errors that made the rule page a port scanner.
LEAKS = ("Errno", "Connection refused", "refused by peer", "timed out", "No route", "Name or service", "reset by")


# ---------------------------------------------------------------------------------------------------- harness


class Guard:
    """Wraps ``socket.socket.connect``: loopback goes through, anything else is blocked and recorded."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []
        self.blocked: list[str] = []

    def connect(self, real):
        guard = self

        def connect(sock, address):
            if isinstance(address, tuple):
                host, port = address[0], address[1]
                guard.attempts.append((host, port))
                ip = ipaddress.ip_address(host.split("%")[0])
                mapped = getattr(ip, "ipv4_mapped", None)
                if not (ip.is_loopback or (mapped is not None and mapped.is_loopback)):
                    guard.blocked.append(host)
                    raise ConnectionRefusedError(111, "blocked by the test's network guard")
            return real(sock, address)

        return connect

    def ports(self) -> set[int]:
        return {port for _, port in self.attempts}


@pytest.fixture(autouse=True)
def guard(monkeypatch):
    g = Guard()
    monkeypatch.setattr(socket.socket, "connect", g.connect(socket.socket.connect))
    return g


class Trap:
    """A local HTTP server that records every request, whatever its method, and answers with ``status``."""

    def __init__(self, *, family: int = socket.AF_INET, status: int = 200, location: str = "") -> None:
        self.requests: list[tuple[str, str, dict, bytes]] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                trap.requests.append((self.command, self.path, dict(self.headers), body))
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_HEAD = _answer

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = family

        self.server = Server(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> Trap:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def trap():
    with Trap() as t:
        yield t


@pytest.fixture
def trap6():
    with Trap(family=socket.AF_INET6) as t:
        yield t


class Resolver:
    """Stands in for ``socket.getaddrinfo``: named hosts get the addresses of the current phase; numeric hosts and
    ``localhost`` go to the real resolver (which answers them without DNS); any other name does not resolve."""

    def __init__(self, real) -> None:
        self.real = real
        self.names: dict[str, list[list[str]]] = {}
        self.calls: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name in self.names:
            self.calls.append(name)
            plan = self.names[name]
            addresses = plan.pop(0) if len(plan) > 1 else plan[0]
            results = []
            for address in addresses:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, int(port or 0), 0, 0) if family == socket.AF_INET6 else (address, int(port or 0))
                results.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
            return results
        if name and name != "localhost" and not _numeric(name):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (test resolver)")
        return self.real(host, port, *args, **kwargs)


def _numeric(name: str) -> bool:
    return all(c in "0123456789abcdefABCDEFxX.:[]" for c in name)


@pytest.fixture(autouse=True)
def resolver(monkeypatch):
    r = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", r)
    return r


@pytest.fixture(autouse=True)
def _fast_webhooks(settings):
    settings.INSIGHTS_WEBHOOK_ATTEMPTS = 3
    settings.INSIGHTS_WEBHOOK_BACKOFF_SECONDS = 0
    settings.INSIGHTS_WEBHOOK_TIMEOUT_SECONDS = 3
    settings.AUTHMON_WEBHOOK_MAX_ATTEMPTS = 2
    settings.AUTHMON_WEBHOOK_BACKOFF_SECONDS = 0
    settings.AUTHMON_WEBHOOK_TIMEOUT_SECONDS = 3
    settings.INSIGHTS_ALERT_LOOKBACK_HOURS = 24


def brute_force(tenant, email="victim@example.com"):
    start = timezone.now() - dt.timedelta(hours=1)
    for n in range(12):
        EventLog.objects.create(
            tenant=tenant,
            event_type="login_failed",
            created_on=start + dt.timedelta(seconds=15 * n),
            email=email,
            ip_address="198.51.100.7",
            client_name="auth ui",
        )


def admin_client(client, tenant):
    user = make_user(tenant, Role.TENANT_ADMIN, f"admin-{tenant.slug}@example.test")
    assert client.login(username=user.email, password=PASSWORD)
    return user


def post_rule(client, url: str):
    return client.post(
        reverse("insights:rules"),
        {
            "detection": Detection.BRUTE_FORCE,
            "recipients": "",
            "webhook_url": url,
            "cooldown_minutes": 60,
            "enabled": "on",
        },
    )


def planted_rule(tenant, url: str) -> AlertRule:
    """A rule whose URL is already in the database (saved before the fix, or while private targets were allowed)."""
    rule = alert_rule_create(
        tenant=tenant, actor="admin@acme.example", detection=Detection.BRUTE_FORCE, recipients="soc@acme.example"
    )
    AlertRule.objects.filter(pk=rule.pk).update(webhook_url=url)
    rule.refresh_from_db()
    return rule


def command(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("set_revocation_webhook", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def victim_session(tenant):
    until = timezone.now() + dt.timedelta(hours=8)
    return sample_record(
        registry.get("sessions"),
        tenant,
        "v",
        email="victim@example.com",
        user_id="1",
        status="active",
        expires_at=until,
    )


def attack_url(host: str, trap: Trap, trap6: Trap) -> str:
    return (trap6 if host == "[::1]" else trap).url(host)


def assert_nothing_reached(guard: Guard, *traps: Trap) -> None:
    for t in traps:
        assert t.requests == [], "the webhook request reached a local service"
        assert t.port not in guard.ports(), "a connection to the local service was attempted"
    assert guard.blocked == [], f"a connection to {guard.blocked} was attempted"


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


# ---------------------------------------------------------------------------------------------------- the mechanism


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "::1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "198.18.0.1",
        "192.0.2.1",
        "fc00::1",
        "fec0::1",  # site-local
        "169.254.169.254",
        "fd00:ec2::254",
        "fe80::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",  # noqa: S104
        "0.1.2.3",
        "::",
        "255.255.255.255",
        "240.0.0.1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible (deprecated)
        "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 carrying the metadata address
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "64:ff9b::7f00:1",  # NAT64 carrying 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 carrying 10.0.0.1
    ],
)
def test_internal_addresses_are_refused_by_default(address):
    from authmon.security.outbound import address_refusal

    assert address_refusal(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2002:5db8:d822::1"])
def test_public_addresses_are_allowed(address):
    from authmon.security.outbound import address_refusal

    assert address_refusal(ipaddress.ip_address(address), allow_private=False) is None


@pytest.mark.parametrize(
    "address,allowed",
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("10.0.0.1", True),
        ("192.168.1.1", True),
        ("fc00::1", True),
        ("100.64.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("169.254.169.254", False),
        ("fd00:ec2::254", False),
        ("100.100.100.200", False),
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("2002:a9fe:a9fe::1", False),
        ("fe80::1", False),
        ("169.254.1.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("0.1.2.3", False),
        ("255.255.255.255", False),
    ],
)
def test_allowing_private_targets_never_allows_metadata_link_local_or_multicast(address, allowed):
    from authmon.security.outbound import address_refusal

    assert (address_refusal(ipaddress.ip_address(address), allow_private=True) is None) is allowed


@pytest.mark.parametrize(
    "host,address",
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("::1", "::1"),
        ("fe80::1%25eth0", "fe80::1"),
        ("example.com", None),
        ("deadbeef", None),
        ("1.2.3.4.5", None),
        ("localhost", None),
    ],
)
def test_every_spelling_of_an_address_is_read_as_that_address(host, address):
    from authmon.security.outbound import literal_address

    found = literal_address(host)
    assert (str(found) if found else None) == address


@pytest.mark.parametrize(
    "url,message",
    [
        ("ftp://files.example.com/x", "http://"),
        ("file:///etc/passwd", "http://"),
        ("http://user:pw@hooks.customer-a.test/", "user name and password"),
        ("http://@hooks.customer-a.test/", "user name and password"),
        ("http:///path", "host"),
        ("http://hooks.customer-a.test:0/", "port"),
        ("http://hooks.customer-a.test:70000/", "port"),
        ("http://hooks.customer-a.test/a b", "http://"),
        ("http://unknown-name.test/", "not allowed"),  # does not resolve: the same answer as an internal name
        ("http://127.0.0.1/", "not allowed"),
    ],
)
def test_save_time_messages_say_what_to_fix(resolver, url, message):
    from django.core.exceptions import ValidationError

    from authmon.security.outbound import outbound_url_validate

    resolver.names["hooks.customer-a.test"] = [[PUBLIC]]
    with pytest.raises(ValidationError) as caught:
        outbound_url_validate(url)
    assert message in " ".join(caught.value.messages)
    assert PUBLIC not in " ".join(caught.value.messages)


class SlowServer:
    """A raw TCP server on 127.0.0.1 that answers every connection with ``send(conn)`` in its own thread."""

    def __init__(self, send) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.send = send
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)
                    self.send(conn, self.stop)
                except OSError:
                    pass

    def __enter__(self) -> SlowServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline(settings):
    import time

    from authmon.security.outbound import OutboundUnreachable, outbound_post

    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True

    def drip(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.is_set():
            conn.sendall(b"X")  # one byte of a header line, well inside every per-read timeout
            time.sleep(0.05)

    with SlowServer(drip) as server:
        started = time.monotonic()
        with pytest.raises(OutboundUnreachable):
            outbound_post(f"http://127.0.0.1:{server.port}/hook", body=b"{}", headers={}, timeout=1)
        assert time.monotonic() - started < 3


def test_the_answer_is_read_only_up_to_the_bound(settings):
    from authmon.security.outbound import MAX_RESPONSE_BYTES, outbound_post

    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True

    def flood(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
        chunk = b"A" * 65536
        while not stop.is_set():
            conn.sendall(chunk)

    with SlowServer(flood) as server:
        answer = outbound_post(f"http://127.0.0.1:{server.port}/hook", body=b"{}", headers={}, timeout=5)
    assert answer.status == 200 and len(answer.body) == MAX_RESPONSE_BYTES


@pytest.fixture(scope="module")
def localhost_cert(tmp_path_factory):
    """A self-signed certificate for the name ``localhost`` only (no IP address in it)."""
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    names = ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            *names,
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_verifies_the_certificate_against_the_host_name_not_the_address(
    settings, monkeypatch, resolver, localhost_cert
):
    import ssl

    from authmon.security.outbound import OutboundUnreachable, outbound_post

    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True
    cert, key = localhost_cert
    real_context = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda *a, **k: real_context(cafile=str(cert)))
    resolver.names["hooks.customer-a.test"] = [["127.0.0.1"]]
    with Trap() as trap:
        server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_side.load_cert_chain(cert, key)
        seen_sni: list[str | None] = []
        server_side.sni_callback = lambda sock, name, ctx: seen_sni.append(name)
        trap.server.socket = server_side.wrap_socket(trap.server.socket, server_side=True)
        answer = outbound_post(f"https://localhost:{trap.port}/hook", body=b"{}", headers={}, timeout=3)
        assert answer.status == 200 and seen_sni == ["localhost"]
        assert trap.requests[0][2]["Host"] == f"localhost:{trap.port}"
        for host in ("127.0.0.1", "hooks.customer-a.test"):  # the right socket, but not the certificate's name
            with pytest.raises(OutboundUnreachable):
                outbound_post(f"https://{host}:{trap.port}/hook", body=b"{}", headers={}, timeout=3)
        assert len(trap.requests) == 1


@pytest.mark.parametrize("url", ["http://[::1/hook", "http://127.0.0.1:99999/hook", "gopher://127.0.0.1:6379/_x"])
def test_a_broken_url_planted_in_the_database_is_refused_at_send(
    tenant_a, tenant_admin, guard, url, django_capture_on_commit_callbacks
):
    rule = planted_rule(tenant_a, url)
    brute_force(tenant_a)
    assert alerts_evaluate(tenant=tenant_a).sent == 1
    assert AlertMark.objects.get(rule=rule).webhook_status == "refused: the address is not allowed"
    RevocationWebhook.objects.create(tenant=tenant_a, url=url, secret="s" * 32)
    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=victim_session(tenant_a), actor=tenant_admin)
    delivery = RevocationDelivery.objects.get()
    assert delivery.status == "failed" and "not allowed" in delivery.last_error
    assert guard.blocked == []
