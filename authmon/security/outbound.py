"""Outbound HTTP requests to addresses that users configure (alert-rule webhooks, the revocation webhook, any later
one), without letting them reach authmon's own network (server-side request forgery).

The invariant: authmon sends a request only to an address it has checked, and checks every address a name gives.

- **At save time** :func:`outbound_url_validate` refuses anything but an ``http``/``https`` URL without user name or
  password whose host (a literal address in any spelling, or a name, resolved) yields only allowed addresses.
- **At send time** :func:`outbound_post` resolves the host once, checks every address again (a name may point
  elsewhere since it was saved: DNS rebinding), and connects to those checked addresses themselves, never to the
  name, so a second resolution between check and connect cannot win. The request still carries the name in
  ``Host``, and for https the TLS handshake sends it as SNI and verifies the certificate against it. It never
  follows a redirect (a 3xx is a failure), and a deadline bounds the whole exchange, of which it reads at most
  ``MAX_RESPONSE_BYTES``.
- **Refused addresses** (:func:`address_refusal`): unspecified, multicast, link-local, reserved and the cloud
  metadata addresses always; loopback, private and every other non-global range (shared address space, test and
  benchmark nets) unless ``AUTHMON_OUTBOUND_ALLOW_PRIVATE`` is on (on-premises installs whose receiver sits on the
  internal network). IPv6 addresses that carry an IPv4 one (IPv4-mapped, 6to4, Teredo, NAT64) are judged by it
  too (NAT64's prefix lies in the reserved ``::/8``, so it is refused in any case). Odd IPv4 spellings
  (``0x7f000001``, ``2130706433``, ``0177.0.0.1``, ``127.1``) are read the way the C resolver reads them
  (``inet_aton``) and judged as the address they mean.
- **Users see generic messages** (:data:`REFUSED`, :data:`UNREACHABLE`, :data:`REDIRECTED`): which connection error
  happened (refused, timed out, reset) would tell a tenant admin which internal ports are open, so the detail goes
  only to the server log.

Why the standard library: ``http.client`` lets a connection subclass choose the socket it speaks over, which is all
that pinning a checked address takes, with TLS verification kept by :mod:`ssl`'s default context. urllib adds proxies
from the environment and redirect handling, both of which would have to be switched off; ``requests``/``urllib3``
are not dependencies of authmon and reach the same result through transport adapters that patch connection pools;
the SSRF-guard packages on PyPI (``advocate`` and its forks) wrap ``requests`` and are no longer maintained.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import logging
import re
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What users see. Kept short and fixed: no connection error, resolved address or answer body ever reaches a page.
REFUSED = "refused: the address is not allowed"
UNREACHABLE = "the webhook could not be reached"
REDIRECTED = "the webhook answered with a redirect (HTTP {status}); redirects are not followed"

SCHEMES = {"http": 80, "https": 443}
MAX_RESPONSE_BYTES = 64 * 1024

# Instance metadata services: refused even when private targets are allowed (AWS/GCP/Azure/OpenStack, AWS over
# IPv6 on Nitro, Alibaba Cloud, Oracle Cloud, AWS ECS task metadata).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192", "169.254.170.2")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host on this network": 0.0.0.0 reaches localhost
_IPV4_SPELLING = re.compile(r"[0-9a-fA-FxX.]+")  # what inet_aton may read as an address (hex, octal, short forms)


class OutboundError(Exception):
    """An outbound request that got no usable answer. ``str(exc)`` is the generic text users may see; the detail is
    in the server log."""


class OutboundRefused(OutboundError):
    """The URL or an address it resolves to is not allowed; nothing was sent."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


class OutboundUnreachable(OutboundError):
    """No connection, a TLS failure, a timeout or a broken answer."""

    def __init__(self) -> None:
        super().__init__(UNREACHABLE)


class OutboundRedirect(OutboundError):
    """The receiver answered 3xx; redirects are not followed (the next hop was never checked)."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(REDIRECTED.format(status=status))


@dataclass(frozen=True)
class OutboundResponse:
    """The receiver's answer: its status and at most ``MAX_RESPONSE_BYTES`` of its body."""

    status: int
    body: bytes


def private_targets_allowed() -> bool:
    """``AUTHMON_OUTBOUND_ALLOW_PRIVATE``: on-premises installs may send to loopback and private networks."""
    return bool(getattr(settings, "AUTHMON_OUTBOUND_ALLOW_PRIVATE", False))


def display_url(url: str) -> str:
    """The URL without user name, password, query or fragment: safe for job records, pages and logs."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "(an invalid URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"


# ------------------------------------------------------------------------------------------------------ addresses


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and that a gateway may deliver to (6to4, Teredo, NAT64)."""
    found = [address.sixtofour] if address.sixtofour is not None else []
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why ``address`` may not be sent to (for the log), or None when it may."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the socket speaks IPv4 to it: judge it as that address alone
            reason = address_refusal(address.ipv4_mapped, allow_private=allow_private)
            return f"{reason}, mapped into {address}" if reason else None
        for inner in _embedded_ipv4(address):
            reason = address_refusal(inner, allow_private=allow_private)
            if reason:
                return f"{reason}, carried in {address}"
        if address.is_site_local:
            return "site-local"
        if address.is_loopback:  # ::1 lies in the reserved ::/8, which the checks below refuse
            return None if allow_private else "loopback"
    if address.is_unspecified or address in _THIS_NETWORK:
        return "unspecified"
    for check in ("is_multicast", "is_link_local", "is_reserved"):  # the reserved ranges hold IPv4 broadcast
        if getattr(address, check):
            return check.removeprefix("is_").replace("_", "-")
    if allow_private:
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_private or not address.is_global:
        return "private or otherwise not global"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, if it is one: standard IPv4 and IPv6, and the IPv4 forms the C resolver also
    accepts (hexadecimal, octal, a single number, fewer than four parts). None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0] if ":" in host else host)
    except ValueError:
        pass
    if _IPV4_SPELLING.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # ASCII (IDNA) host name or address, without brackets
    port: int
    path: str  # path and query, percent-encoded where needed


class _BadURL(ValueError):
    """The URL is not an http(s) URL authmon can send to; the message says what to fix."""


def _target(url: str) -> _Target:
    if not isinstance(url, str) or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise _BadURL("Enter an http:// or https:// address.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _BadURL("Enter an http:// or https:// address with a valid host and port.") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _BadURL("Enter an http:// or https:// address.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _BadURL("Leave the user name and password out of the address (the signature authenticates authmon).")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise _BadURL("Enter an http:// or https:// address with a host name.")
    if ":" not in host:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _BadURL("Enter an http:// or https:// address with a valid host name.") from None
    if port == 0:
        raise _BadURL("Enter an http:// or https:// address with a valid host and port.")
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return _Target(scheme=scheme, host=host, port=port or SCHEMES[scheme], path=path)


def _resolve(target: _Target) -> list[tuple[int, Any]]:
    """Every (family, socket address) the host gives, without a DNS query for a literal address. Raises OSError."""
    literal = literal_address(target.host)
    if literal is not None:
        if literal.version == 6:
            return [(socket.AF_INET6, (str(literal), target.port, 0, 0))]
        return [(socket.AF_INET, (str(literal), target.port))]
    found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses: list[tuple[int, Any]] = []
    for family, _type, _proto, _name, sockaddr in found:
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise OSError(f"{target.host} has no IPv4 or IPv6 address")
    return addresses


def _refusals(addresses: list[tuple[int, Any]]) -> list[str]:
    allow = private_targets_allowed()
    refusals = []
    for _family, sockaddr in addresses:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        reason = address_refusal(address, allow_private=allow)
        if reason:
            refusals.append(f"{address} ({reason})")
    return refusals


def outbound_url_validate(url: str) -> None:
    """Save-time check of a URL authmon will send to (see the module docstring). Raises ``ValidationError`` with a
    message that says what to fix and never which address a name resolved to."""
    allowed = (
        "webhooks must reach a public internet address, not a loopback, private, link-local, multicast or cloud "
        "metadata one"
        if not private_targets_allowed()
        else "webhooks may not reach link-local, multicast, reserved or cloud metadata addresses"
    )
    try:
        target = _target(url)
    except _BadURL as exc:
        raise ValidationError(str(exc), code="invalid") from None
    if literal_address(target.host) is not None and _refusals(_resolve(target)):
        # Before the syntax check, so that 0x7f000001 and 127.1 are named for what they are.
        raise ValidationError(f"Refused: the address is not allowed ({allowed}).", code="not_allowed")
    try:
        URLValidator(schemes=list(SCHEMES))(url)
    except ValidationError:
        raise ValidationError("Enter an http:// or https:// address.", code="invalid") from None
    try:
        addresses = _resolve(target)
    except (OSError, UnicodeError) as exc:
        logger.info("Outbound URL %s refused at save: %s does not resolve (%s)", display_url(url), target.host, exc)
        addresses = []
    refusals = _refusals(addresses) if addresses else ["no address"]
    if refusals:
        # One message whether the name does not resolve or resolves to an internal address: telling them apart
        # would let a tenant admin map the operator's internal DNS.
        logger.info("Outbound URL %s refused at save: %s", display_url(url), ", ".join(refusals))
        raise ValidationError(
            f"Refused: the address is not allowed; the host name must resolve to allowed addresses only ({allowed}).",
            code="not_allowed",
        )


# ------------------------------------------------------------------------------------------------------- sending


def _connect(addresses: list[tuple[int, Any]], timeout: float | None) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers."""
    error: OSError | None = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error or OSError("no address to connect to")


class _Pinned:
    """What both connection classes add to ``http.client``: the socket goes to the checked addresses, whatever the
    name resolves to now, and :meth:`abort` (called by the deadline's timer thread) ends the exchange at once.

    The socket timeout bounds each read; a receiver that sends one byte just before every timeout would still hold
    the worker for hours, so a whole-exchange deadline shuts the connection down from outside: the blocked read then
    ends with an error. The shutdown goes through a duplicate of the TCP socket, which TLS wrapping leaves alone.
    """

    checked_addresses: list[tuple[int, Any]]
    timeout: float | None
    aborted = False
    abort_handle: socket.socket | None = None

    def _open(self) -> socket.socket:
        sock = _connect(self.checked_addresses, self.timeout)
        self.abort_handle = sock.dup()
        if self.aborted:
            sock.close()
            raise TimeoutError("the deadline passed while connecting")
        return sock

    def abort(self) -> None:
        self.aborted = True
        handle = self.abort_handle
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        super().close()  # type: ignore[misc]
        if self.abort_handle is not None:
            self.abort_handle.close()
            self.abort_handle = None


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, addresses: list[tuple[int, Any]], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.checked_addresses = addresses

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    """TLS: the host name goes out as SNI and the certificate is verified against it (the default context checks
    the chain and the name), although the socket was opened to an address."""

    def __init__(self, host: str, port: int, *, addresses: list[tuple[int, Any]], timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.checked_addresses = addresses

    def connect(self) -> None:
        sock = self._open()
        try:
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def outbound_post(
    url: str,
    *,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> OutboundResponse:
    """POST ``body`` to ``url`` under the rules of the module docstring and return the receiver's answer (any
    status but 3xx). ``timeout`` bounds each connection attempt and the whole exchange after it.

    Raises :class:`OutboundRefused`, :class:`OutboundRedirect` or :class:`OutboundUnreachable`, whose text is safe
    to show; the detail is logged here."""
    shown = display_url(url)
    try:
        target = _target(url)
    except _BadURL as exc:
        logger.warning("Outbound request to %s refused: %s", shown, exc)
        raise OutboundRefused() from None
    try:
        addresses = _resolve(target)
    except (OSError, UnicodeError) as exc:
        logger.warning("Outbound request to %s failed: %s does not resolve (%s)", shown, target.host, exc)
        raise OutboundUnreachable() from None
    refusals = _refusals(addresses)
    if refusals:
        logger.warning("Outbound request to %s refused: %s resolves to %s", shown, target.host, ", ".join(refusals))
        raise OutboundRefused()
    factory = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = factory(target.host, target.port, addresses=addresses, timeout=timeout)
    deadline = threading.Timer(timeout, connection.abort)
    deadline.daemon = True
    deadline.start()
    try:
        connection.request("POST", target.path, body=body, headers={**headers, "Connection": "close"})
        response = connection.getresponse()
        status = response.status
        location = response.getheader("Location", "")
        content = response.read(max_response_bytes) if not 300 <= status < 400 else b""
    except (OSError, http.client.HTTPException, ValueError) as exc:  # ssl.SSLError and timeouts are OSErrors
        logger.warning("Outbound request to %s (%s) failed: %r", shown, target.host, exc)
        raise OutboundUnreachable() from None
    finally:
        deadline.cancel()
        connection.close()
    if connection.aborted:  # the cut-off may leave http.client a truncated answer that parses as a whole one
        logger.warning("Outbound request to %s (%s) failed: no full answer within %s s", shown, target.host, timeout)
        raise OutboundUnreachable()
    if 300 <= status < 400:
        logger.warning("Outbound request to %s answered %s to %s; not followed", shown, status, display_url(location))
        raise OutboundRedirect(status)
    return OutboundResponse(status=status, body=content)
