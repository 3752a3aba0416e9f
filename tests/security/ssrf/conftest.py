"""The SSRF harness's fixtures, autouse for every test of this package: no test here reaches beyond loopback."""

from __future__ import annotations

import socket

import pytest

from tests.security.ssrf.harness import Guard, Resolver, Trap


@pytest.fixture(autouse=True)
def guard(monkeypatch):
    g = Guard()
    monkeypatch.setattr(socket.socket, "connect", g.connect(socket.socket.connect))
    return g


@pytest.fixture
def trap():
    with Trap() as t:
        yield t


@pytest.fixture
def trap6():
    with Trap(family=socket.AF_INET6) as t:
        yield t


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
