"""The outbound guard itself (authmon.security.outbound): which addresses are internal, every spelling of one,
the messages, the deadline and size bounds, and certificate checks against the host name."""

from __future__ import annotations

import ipaddress
import socket
import threading

import pytest

from insights.alerts import alerts_evaluate
from insights.models import AlertMark
from sessions_grants.models import RevocationDelivery, RevocationWebhook
from sessions_grants.services import session_revoke
from tests.security.ssrf.harness import (
    PUBLIC,
    Trap,
    brute_force,
    planted_rule,
    victim_session,
)

pytestmark = pytest.mark.django_db


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
