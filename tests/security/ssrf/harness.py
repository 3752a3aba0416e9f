"""The SSRF tests' harness: a connect guard, local trap servers, a stand-in resolver and the attack values.

Network rule of these tests: they only ever reach loopback. The guard wraps ``socket.socket.connect`` and blocks (and
records) any other destination; names are resolved by the stand-in for ``socket.getaddrinfo``, never by real DNS.
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from authmon import registry
from authmon.models import Role
from events.models import EventLog
from insights.alerts import alert_rule_create
from insights.models import AlertRule, Detection
from tests.conftest import PASSWORD, make_user
from tests.samples import sample_record

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
