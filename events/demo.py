"""Demo event logs: the sign-in activity of the demo world, for ``console.demo`` (``LogKind.demo_builder``).

Logins and logouts across the applications and identity providers, each successful login with its
``session_created`` event and (through :func:`sessions_grants.demo.session_open`) its session, grants and token
refreshes; failed logins, failed MFA, lockouts and password resets with their e-mails (:func:`notifications.demo.mail`).
So this builder makes the events, sessions and grants together, and is registered for all three kinds.

Scripted, for the guide's use cases and the insights detections: ``user@example.com`` (user id ``123``), who failed
MFA yesterday, locked themself out from ``192.168.1.1`` in the last 24 hours and whose password-reset e-mail failed
once; a brute-force burst on one account; credential stuffing from one IP across many accounts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from authmon.world import (
    APP_BY_NAME,
    ATTACK_USER_AGENTS,
    BRUTE_FORCE_IP,
    FIRST_NAMES,
    LAST_NAMES,
    OFFICE_IP,
    STUFFING_IP,
    USER_AGENTS,
    App,
    DemoBuilder,
    DemoTenant,
    Person,
    ascii_name,
)
from events.models import EventLog, EventType
from notifications.demo import mail
from notifications.models import Category, NotificationStatus
from sessions_grants.demo import session_open
from sessions_grants.models import Session


def event_add(
    world: DemoTenant,
    kind: str,
    person: Person | None,
    when: dt.datetime,
    *,
    email: str = "",
    app: str = "",
    provider: str = "",
    ip: str = "",
    agent: str = "",
    **details: Any,
) -> None:
    """Queue one event; ``person`` fills the usual fields, keywords override them."""
    base: dict[str, Any] = {}
    if person is not None:
        base = {"country": person.country, "city": person.city}
    base.update(details)
    base.setdefault("request_id", f"req_{world.hexid(12)}")
    world.add(
        "events",
        EventLog(
            tenant_id=world.tenant.pk,
            event_type=kind,
            client_name=app,
            provider_name=provider or (person.provider if person else ""),
            email=email or (person.email if person else ""),
            username=person.username if person and email in ("", person.email) else "",
            ip_address=ip or (person.ips[0] if person else None),
            user_agent=agent or (person.agents[0] if person else ""),
            created_on=when,
            details=base,
        ),
    )


def login(
    world: DemoTenant,
    person: Person,
    when: dt.datetime,
    *,
    app: str | None = None,
    ip: str | None = None,
    agent: str | None = None,
    failures: int = 0,
    mfa_failures: int = 0,
    remember: bool | None = None,
    logout_after: dt.timedelta | None = None,
    revoke: tuple[dt.datetime, str, str] | None = None,
    extra_grant: bool | None = None,
    refreshes: int | None = None,
    risk: int | None = None,
    scripted: bool = False,
) -> Session:
    """A successful sign-in with everything it leaves behind: events, the session, grants, refreshes, logout.

    Unless ``scripted``, the session may also end by a random logout or admin revocation.
    """
    rng = world.rng
    app_obj = APP_BY_NAME[app or rng.choice(person.apps)]
    ip = ip or rng.choice(person.ips)
    agent = agent or rng.choice(person.agents)
    common = {"app": app_obj.name, "ip": ip, "agent": agent}
    t = when
    for _ in range(failures):
        reason = "invalid_password" if person.provider == "local" else rng.choice(["invalid_password", "idp_error"])
        event_add(world, EventType.LOGIN_FAILED, person, t, **common, reason=reason, protocol=app_obj.protocol)
        t += dt.timedelta(seconds=rng.randint(8, 50))
    session_id = world.uid()
    if person.mfa:
        for attempt in range(1, mfa_failures + 1):
            event_add(
                world,
                EventType.MFA_FAILED,
                person,
                t,
                **common,
                reason="invalid_code",
                mfa_method=person.mfa,
                attempt=attempt,
                session_id=session_id,
            )
            t += dt.timedelta(seconds=rng.randint(10, 40))
        t += dt.timedelta(seconds=rng.randint(5, 25))
        event_add(world, EventType.MFA_VERIFIED, person, t, **common, mfa_method=person.mfa, session_id=session_id)
    t += dt.timedelta(seconds=1)
    event_add(
        world,
        EventType.LOGIN,
        person,
        t,
        **common,
        session_id=session_id,
        protocol=app_obj.protocol,
        auth_method="password" if person.provider == "local" else "federated",
        mfa_method=person.mfa,
        risk_score=risk if risk is not None else rng.randint(0, 30),
    )
    event_add(world, EventType.SESSION_CREATED, person, t, **common, session_id=session_id, protocol=app_obj.protocol)

    def logged_out(at: dt.datetime) -> None:
        event_add(world, EventType.LOGOUT, person, at, **common, session_id=session_id, reason="user_initiated")

    def refreshed(at: dt.datetime, grant_app: App, grant_id: str) -> None:
        event_add(
            world,
            EventType.TOKEN_REFRESHED,
            person,
            at,
            app=grant_app.name,
            ip=ip,
            agent=agent,
            grant_id=grant_id,
            session_id=session_id,
            scopes=list(grant_app.scopes),
        )

    return session_open(
        world,
        person,
        app_obj,
        t,
        session_id,
        ip=ip,
        agent=agent,
        on_logout=logged_out,
        on_refresh=refreshed,
        remember=remember,
        logout_after=logout_after,
        revoke=revoke,
        extra_grant=extra_grant,
        refreshes=refreshes,
        scripted=scripted,
    )


def password_reset(
    world: DemoTenant, person: Person, when: dt.datetime, *, email_status: str = NotificationStatus.SENT
) -> None:
    """A reset request, its e-mail and, if the mail went out, the completed reset."""
    ip = world.rng.choice(person.ips)
    event_add(
        world, EventType.PASSWORD_RESET, person, when, app="auth ui", ip=ip, stage="requested", method="email_link"
    )
    mail(
        world,
        Category.PASSWORD_RESET,
        person.email,
        when + dt.timedelta(seconds=4),
        status=email_status,
        subject="Password reset",
    )
    completed = when + dt.timedelta(minutes=world.rng.randint(2, 15))
    if email_status == NotificationStatus.SENT and completed < world.now:
        event_add(
            world,
            EventType.PASSWORD_RESET,
            person,
            completed,
            app="auth ui",
            ip=ip,
            stage="completed",
            method="email_link",
        )


class SignInDemo(DemoBuilder):
    """The tenant's sign-in activity: the guide's scenarios and two attacks, then random sign-ins and noise."""

    kinds = ("events", "sessions", "grants")
    order = 10
    share = None  # what audit, jobs and notifications leave

    def script(self) -> None:
        self._guide_user()
        self._brute_force()
        self._credential_stuffing()

    def _guide_user(self) -> None:
        """user@example.com (id 123): the person of the guide's use cases."""
        w = self.world
        person = w.guide
        # Long-lived sessions that are still active, on several applications, and one SAML session.
        login(w, person, w.ago(days=3, hours=2), app="billing portal", remember=True, scripted=True)
        login(
            w,
            person,
            w.ago(days=5, hours=7),
            app="mobile app",
            ip="198.51.100.23",
            agent=USER_AGENTS[7],
            remember=True,
            refreshes=2,
            extra_grant=True,
            scripted=True,
        )
        login(w, person, w.ago(days=9), app="hr portal", logout_after=dt.timedelta(minutes=25), scripted=True)
        # An old session an admin revoked after the phone was lost.
        lost = w.ago(days=12, hours=3)
        login(
            w,
            person,
            lost,
            app="mobile app",
            remember=True,
            revoke=(lost + dt.timedelta(hours=30), w.admins[2], "device lost"),
            scripted=True,
        )
        # Yesterday: two wrong TOTP codes, then a TOTP reset by the help desk, then success.
        morning = w.local(1, 8, 47)
        login(
            w,
            person,
            morning,
            app="auth ui",
            ip=OFFICE_IP,
            mfa_failures=2,
            logout_after=dt.timedelta(hours=8, minutes=10),
            scripted=True,
        )
        mail(w, Category.MFA_ENROLLMENT, person.email, w.local(1, 9, 5), subject="TOTP reset")
        event_add(
            w,
            EventType.MFA_FAILED,
            person,
            w.local(1, 16, 2),
            app="billing portal",
            ip=OFFICE_IP,
            reason="expired_code",
            mfa_method="totp",
            attempt=1,
        )
        event_add(
            w, EventType.MFA_VERIFIED, person, w.local(1, 16, 3), app="billing portal", ip=OFFICE_IP, mfa_method="totp"
        )
        # In the last 24 hours: locked out from the office, the reset e-mail fails once, then works.
        start = w.ago(hours=5, minutes=12)
        for attempt in range(1, 6):
            event_add(
                w,
                EventType.LOGIN_FAILED,
                person,
                start + dt.timedelta(seconds=40 * attempt),
                app="auth ui",
                ip=OFFICE_IP,
                reason="invalid_password",
                attempt=attempt,
                protocol="OIDC",
            )
        locked = start + dt.timedelta(seconds=40 * 5 + 1)
        event_add(
            w,
            EventType.ACCOUNT_LOCKED,
            person,
            locked,
            app="auth ui",
            ip=OFFICE_IP,
            reason="too_many_failed_attempts",
            failed_attempts=5,
            locked_until=(locked + dt.timedelta(minutes=15)).isoformat(),
        )
        mail(w, Category.ALERT, person.email, locked + dt.timedelta(seconds=3), subject="Your account was locked")
        event_add(
            w,
            EventType.LOGIN_FAILED,
            person,
            locked + dt.timedelta(minutes=2),
            app="auth ui",
            ip=OFFICE_IP,
            reason="account_locked",
            protocol="OIDC",
        )
        password_reset(w, person, locked + dt.timedelta(minutes=6), email_status=NotificationStatus.FAILED)
        password_reset(w, person, locked + dt.timedelta(minutes=21))
        login(
            w,
            person,
            locked + dt.timedelta(minutes=31),
            app="auth ui",
            ip=OFFICE_IP,
            remember=False,
            refreshes=1,
            scripted=True,
        )

    def _brute_force(self) -> None:
        """Two days ago at night: 30 password guesses for one local account in four minutes, then a lockout."""
        w = self.world
        victim = next((p for p in w.people if p.provider == "local" and p is not w.guide), w.people[0])
        start = w.local(2, 22, 5)
        agent = ATTACK_USER_AGENTS[0]
        for attempt in range(1, 31):
            when = start + dt.timedelta(seconds=8 * attempt)
            reason = "invalid_password" if attempt <= 5 else "account_locked"
            event_add(
                w,
                EventType.LOGIN_FAILED,
                victim,
                when,
                app="auth ui",
                ip=BRUTE_FORCE_IP,
                agent=agent,
                reason=reason,
                attempt=attempt,
                country="NL",
                city="Amsterdam",
                risk_score=95,
            )
            if attempt == 5:
                event_add(
                    w,
                    EventType.ACCOUNT_LOCKED,
                    victim,
                    when + dt.timedelta(seconds=1),
                    app="auth ui",
                    ip=BRUTE_FORCE_IP,
                    agent=agent,
                    reason="too_many_failed_attempts",
                    failed_attempts=5,
                    country="NL",
                    city="Amsterdam",
                )
                mail(w, Category.ALERT, victim.email, when + dt.timedelta(seconds=5), subject="Your account was locked")
        password_reset(w, victim, w.local(1, 8, 20))
        login(w, victim, w.local(1, 8, 40), app="auth ui")

    def _credential_stuffing(self) -> None:
        """Four days ago: one IP tries many accounts once each; two of them work and are then revoked."""
        w = self.world
        rng = self.rng
        accounts = max(25, min(150, w.total // 200))
        start = w.local(4, 3, 12)
        known = rng.sample([p for p in w.people if p is not w.guide], min(accounts // 2, len(w.people) - 1))
        targets: list[tuple[Person | None, str]] = [(p, p.email) for p in known]
        while len(targets) < accounts:
            first, last = rng.choice(FIRST_NAMES).lower(), ascii_name(rng.choice(LAST_NAMES))
            targets.append((None, f"{first}.{last}{rng.randint(1, 99)}@{w.domain}"))
        rng.shuffle(targets)
        step = dt.timedelta(seconds=1500 / accounts)
        compromised = 0
        for index, (person, email) in enumerate(targets):
            when = start + step * index
            agent = rng.choice(ATTACK_USER_AGENTS)
            if person is not None and compromised < 2 and person.provider == "local" and index > 4:
                compromised += 1
                session = login(
                    w,
                    person,
                    when,
                    app="auth ui",
                    ip=STUFFING_IP,
                    agent=agent,
                    risk=88,
                    remember=False,
                    revoke=(when + dt.timedelta(minutes=47), w.admins[2], "credential stuffing response"),
                    scripted=True,
                )
                mail(
                    w,
                    Category.ALERT,
                    person.email,
                    session.created_at + dt.timedelta(seconds=6),
                    subject="New sign-in to your account from Russia",
                )
                continue
            reason = "invalid_password" if person is not None else "unknown_user"
            event_add(
                w,
                EventType.LOGIN_FAILED,
                person,
                when,
                email=email,
                app="auth ui",
                ip=STUFFING_IP,
                agent=agent,
                provider="local",
                reason=reason,
                country="RU",
                city="Moscow",
                risk_score=rng.randint(80, 99),
            )
        mail(
            w,
            Category.SYSTEM,
            f"security@{w.domain}",
            start + dt.timedelta(minutes=27),
            subject=f"Security alert: credential stuffing from {STUFFING_IP}",
            cc=f"{w.admins[0]}, {w.admins[2]}",
            bcc=f"soc@{w.domain}",
        )

    def fill(self, target: int) -> None:
        w = self.world
        rng = self.rng
        auth = self.kinds
        while target - w.count(*auth) >= 40:
            person = w.person()
            when = w.pick_time(w.busy_cum)
            roll = rng.random()
            if roll < 0.012 and person.provider == "local":
                for attempt in range(1, 6):
                    event_add(
                        w,
                        EventType.LOGIN_FAILED,
                        person,
                        when + dt.timedelta(seconds=30 * attempt),
                        app="auth ui",
                        reason="invalid_password",
                        attempt=attempt,
                    )
                locked = when + dt.timedelta(seconds=181)
                event_add(
                    w,
                    EventType.ACCOUNT_LOCKED,
                    person,
                    locked,
                    app="auth ui",
                    reason="too_many_failed_attempts",
                    failed_attempts=5,
                )
                if w.room("notifications"):
                    mail(w, Category.ALERT, person.email, locked, subject="Your account was locked")
                continue
            if roll < 0.03 and w.room("notifications"):
                password_reset(w, person, when)
                when += dt.timedelta(minutes=rng.randint(16, 40))
                if when >= w.now:
                    continue
            failures = 0 if rng.random() > 0.08 else rng.randint(1, 2)
            mfa_failures = 0 if rng.random() > 0.05 else 1
            login(w, person, when, failures=failures, mfa_failures=mfa_failures)
        while w.count(*auth) < target:
            # Noise that needs no session: mistyped addresses and expired links.
            person = w.person()
            when = w.pick_time(w.busy_cum)
            local_part, _, domain = person.email.partition("@")
            typo = rng.choice(
                [
                    f"{local_part[:-1]}@{domain}",
                    f"{local_part}{local_part[-1]}@{domain}",
                    f"{local_part}@{domain.replace('.', '', 1)}",
                ]
            )
            event_add(
                w,
                EventType.LOGIN_FAILED,
                None,
                when,
                email=typo,
                app=rng.choice(person.apps),
                provider="local",
                ip=rng.choice(person.ips),
                agent=rng.choice(person.agents),
                reason="unknown_user",
                country=person.country,
            )
