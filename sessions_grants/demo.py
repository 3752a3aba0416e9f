"""Demo sessions and grants: what a successful sign-in of the demo world leaves open.

The sign-ins themselves are events (:mod:`events.demo` makes them, scripted and random, and is the builder registered
for these kinds too); each successful one calls :func:`session_open`, which decides how the session ends (logout,
expiry, an admin's revocation), makes its grants (OIDC: the application's, sometimes one more) and their token
refreshes. The events a session causes later (its logout, the refreshes) go back through the two callbacks, so this
module stays a leaf and every record comes from the tenant's one rng in the order the old single generator drew.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from authmon.world import APP_BY_NAME, App, DemoTenant, Person
from sessions_grants.models import AccessStatus, Grant, Protocol, Session

# Called as on_logout(at) when the user signs out, and on_refresh(at, app, grant_id) per token refresh.
LogoutCallback = Callable[[dt.datetime], None]
RefreshCallback = Callable[[dt.datetime, App, str], None]


def session_open(
    world: DemoTenant,
    person: Person,
    app: App,
    t: dt.datetime,
    session_id: str,
    *,
    ip: str,
    agent: str,
    on_logout: LogoutCallback,
    on_refresh: RefreshCallback,
    remember: bool | None = None,
    logout_after: dt.timedelta | None = None,
    revoke: tuple[dt.datetime, str, str] | None = None,
    extra_grant: bool | None = None,
    refreshes: int | None = None,
    scripted: bool = False,
) -> Session:
    """The session ``person`` opened on ``app`` at ``t``, with its grants; unless ``scripted`` it may also end by a
    random logout or admin revocation. ``revoke`` is (when, by whom, why)."""
    rng = world.rng
    remember = rng.random() < 0.2 if remember is None else remember
    lifetime = dt.timedelta(days=14) if remember else dt.timedelta(hours=12 if app.protocol == "OIDC" else 8)
    expires = t + lifetime
    status, revoked_at, ended = AccessStatus.ACTIVE, None, None
    if not scripted and logout_after is None and rng.random() < 0.4:
        logout_after = dt.timedelta(minutes=rng.randint(4, 9 * 60))
    if not scripted and revoke is None and rng.random() < 0.02:
        revoke_at = t + dt.timedelta(minutes=rng.randint(10, 600))
        if revoke_at < world.now and revoke_at < expires:
            revoke = (revoke_at, rng.choice(world.admins), rng.choice(["suspicious activity", "device lost"]))
    if revoke is not None:
        status, revoked_at = AccessStatus.REVOKED, revoke[0]
        ended = {"reason": "revoked", "by": revoke[1], "comment": revoke[2]}
    elif logout_after is not None and t + logout_after < min(expires, world.now):
        expires = t + logout_after
        status = AccessStatus.EXPIRED
        ended = {"reason": "logout"}
        on_logout(expires)
    elif expires <= world.now:
        status = AccessStatus.EXPIRED

    grant_ids: list[str] = []
    if app.protocol == Protocol.OIDC:
        grant_apps = [app]
        want_extra = rng.random() < 0.15 if extra_grant is None else extra_grant
        others = [APP_BY_NAME[name] for name in person.apps if APP_BY_NAME[name].protocol == Protocol.OIDC]
        others = [other for other in others if other is not app]
        if app.name != "auth ui":
            others = others or [APP_BY_NAME["auth ui"]]
        if want_extra and others:
            grant_apps.append(rng.choice(others))
        for grant_app in grant_apps:
            grant_ids.append(_grant(world, person, grant_app, t, session_id, revoked_at, ended, refreshes, on_refresh))
    details: dict[str, Any] = {
        "claims": _claims(world, person, app, t, lifetime),
        "scopes": list(app.scopes),
        "parameters": _parameters(world, app),
        "grant_ids": grant_ids,
        "ip_address": ip,
        "user_agent": agent,
        "provider": person.provider,
        "remember_me": remember,
    }
    if ended:
        details["ended"] = ended
    return world.add(
        "sessions",
        Session(
            tenant_id=world.tenant.pk,
            session_id=session_id,
            protocol=app.protocol,
            client_id=app.name,
            user_id=person.user_id,
            email=person.email,
            created_at=t,
            expires_at=expires,
            status=status,
            details=details,
            revoked_at=revoked_at,
        ),
    )


def _grant(
    world: DemoTenant,
    person: Person,
    app: App,
    t: dt.datetime,
    session_id: str,
    session_revoked: dt.datetime | None,
    ended: dict[str, Any] | None,
    refreshes: int | None,
    on_refresh: RefreshCallback,
) -> str:
    """A grant of the session to ``app`` and its refreshes (offline access only); returns its id."""
    rng = world.rng
    grant_id = f"gr_{world.hexid(24)}"
    offline = "offline_access" in app.scopes
    expires = t + dt.timedelta(days=app.grant_days)
    status, revoked_at = AccessStatus.ACTIVE, None
    details: dict[str, Any] = {
        "scopes": list(app.scopes),
        "grant_type": "authorization_code",
        "refresh_token": offline,
        "consent": rng.choice(["explicit", "implicit", "implicit"]),
        "client_uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{app.slug}.{world.domain}")),
    }
    if session_revoked is not None and ended is not None:
        status, revoked_at = AccessStatus.REVOKED, session_revoked
        details["revoked"] = {"by": ended["by"], "reason": ended["comment"], "with_session": True}
    elif rng.random() < 0.03:
        revoked_at = t + dt.timedelta(hours=rng.randint(1, 24 * 6))
        if revoked_at < world.now and revoked_at < expires:
            status = AccessStatus.REVOKED
            details["revoked"] = {"by": person.email, "reason": "user revoked consent", "with_session": False}
        else:
            revoked_at = None
    if status == AccessStatus.ACTIVE and expires <= world.now:
        status = AccessStatus.EXPIRED
    world.add(
        "grants",
        Grant(
            tenant_id=world.tenant.pk,
            grant_id=grant_id,
            email=person.email,
            user_id=person.user_id,
            provider=person.provider,
            client=app.name,
            session_id=session_id,
            created_at=t,
            expires_at=expires,
            status=status,
            details=details,
            revoked_at=revoked_at,
        ),
    )
    if offline:
        end = min(revoked_at or expires, expires, world.now)
        count = rng.choice([0, 0, 1, 1, 2]) if refreshes is None else refreshes
        refresh_at = t
        for _ in range(count):
            refresh_at += dt.timedelta(hours=rng.uniform(0.9, 30))
            if refresh_at >= end:
                break
            on_refresh(refresh_at, app, grant_id)
    return grant_id


def _claims(world: DemoTenant, person: Person, app: App, t: dt.datetime, lifetime: dt.timedelta) -> dict[str, Any]:
    if app.protocol == Protocol.SAML:
        return {
            "NameID": person.email,
            "NameIDFormat": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            "SessionIndex": f"_{world.hexid(32)}",
            "attributes": {"displayName": person.name, "mail": person.email, "employeeNumber": person.user_id},
        }
    issued = int(t.timestamp())
    return {
        "iss": f"https://login.{world.domain}",
        "sub": person.user_id,
        "aud": app.slug,
        "email": person.email,
        "name": person.name,
        "idp": person.provider,
        "amr": (["pwd"] if person.provider == "local" else ["fed"])
        + ([{"totp": "otp", "webauthn": "hwk", "sms": "sms"}[person.mfa]] if person.mfa else []),
        "iat": issued,
        "exp": issued + int(lifetime.total_seconds()),
    }


def _parameters(world: DemoTenant, app: App) -> dict[str, Any]:
    if app.protocol == Protocol.SAML:
        return {
            "binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
            "acs_url": f"https://{app.slug}.{world.domain}/saml/acs",
            "entity_id": f"https://{app.slug}.{world.domain}/saml/metadata",
            "relay_state": "/",
        }
    return {
        "response_type": "code",
        "redirect_uri": f"https://{app.slug}.{world.domain}/oauth/callback",
        "scope": " ".join(app.scopes),
        "code_challenge_method": "S256",
        "prompt": world.rng.choice(["login", "none", "select_account"]),
        "state": world.hexid(16),
    }
