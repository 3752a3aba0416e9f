"""Demo notification logs: the e-mails of the demo world, for ``console.demo`` (``LogKind.demo_builder``).

:func:`mail` is how every kind's scenario sends one (a lockout alert, a password-reset link); the builder adds the
scripted ones the guide needs (one of each category, bounces, a pending welcome mail, "TOTP reset" yesterday) and
random mail up to the notifications' share of the rows.
"""

from __future__ import annotations

import datetime as dt

from authmon.world import APPS, DemoBuilder, DemoTenant
from notifications.models import Category, NotificationLog, NotificationStatus


def mail(
    world: DemoTenant,
    category: str,
    recipient: str,
    when: dt.datetime,
    *,
    subject: str = "",
    status: str = NotificationStatus.SENT,
    cc: str = "",
    bcc: str = "",
) -> None:
    """Queue one e-mail to ``recipient``; its subject is a random one of the category unless given."""
    subject = subject or _subject(world, category)
    person = world.by_email.get(recipient)
    name = person.name.split()[0] if person else "there"
    world.add(
        "notifications",
        NotificationLog(
            tenant_id=world.tenant.pk,
            subject=subject,
            recipient=recipient,
            cc=cc,
            bcc=bcc,
            timestamp=when,
            status=status,
            category=category,
            body=_body(world, category, subject, name),
        ),
    )


def _subject(world: DemoTenant, category: str) -> str:
    rng = world.rng
    tenant = world.tenant.name
    app = rng.choice(APPS).name
    options: dict[str, list[str]] = {
        Category.INVITATION: [
            f"You're invited to join {tenant}",
            f"You have been added to the {app} group",
            f"Invitation: access to {app}",
        ],
        Category.PASSWORD_RESET: ["Password reset", f"Reset your {tenant} password", "Password reset requested"],
        Category.MFA_ENROLLMENT: [
            "Set up two-factor authentication",
            "TOTP reset",
            "A new security key was added to your account",
        ],
        Category.ACCESS_REQUEST: [
            f"Access request: {app}",
            f"Approval needed: access to {app}",
            f"Your access request for {app} was approved",
        ],
        Category.ALERT: [
            "New sign-in to your account",
            "Your account was locked",
            "Your password was changed",
            "Suspicious sign-in attempt blocked",
        ],
        Category.SYSTEM: [
            "Scheduled maintenance this Saturday",
            f"Monthly security report for {tenant}",
            f"New SAML signing certificate for {app}",
        ],
        Category.WELCOME: [f"Welcome to {tenant}", "Your account is ready"],
    }
    return rng.choice(options[category])


def _body(world: DemoTenant, category: str, subject: str, name: str) -> str:
    link = f"https://login.{world.domain}/{category.replace('_', '-')}/{world.hexid(20)}"
    lines: dict[str, str] = {
        Category.PASSWORD_RESET: "We received a request to reset your password. The link below is valid for "
        "30 minutes. If you did not ask for this, you can ignore this e-mail.",
        Category.MFA_ENROLLMENT: "Your two-factor authentication settings changed. Open the link to enrol your "
        "authenticator app again.",
        Category.INVITATION: "You have been invited. Accept the invitation to set up your account.",
        Category.ACCESS_REQUEST: "An access request needs your decision.",
        Category.ALERT: "We noticed activity on your account that you may want to review.",
        Category.SYSTEM: "This is an announcement from your administrators.",
        Category.WELCOME: "Your account is ready. Sign in to get started.",
    }
    return (
        f"Hi {name},\n\n{lines[category]}\n\n{link}\n\n"
        f"-- \n{world.tenant.name} identity team\nThis message was sent to you about: {subject}"
    )


class NotificationsDemo(DemoBuilder):
    """The tenant's e-mails: the scripted ones, then random mail of every category and status."""

    kinds = ("notifications",)
    order = 40
    share = 0.08

    def script(self) -> None:
        """One of each category, a bounce, a pending welcome mail, and "TOTP reset" mails yesterday."""
        w = self.world
        d = w.domain
        manager = w.admins[0]
        person = w.people[3]
        mail(w, Category.INVITATION, f"new.hire@{d}", w.local(8, 10, 0), cc=manager)
        mail(
            w,
            Category.INVITATION,
            f"former.contractor@{d}",
            w.local(5, 11, 30),
            status=NotificationStatus.BOUNCED,
            cc=manager,
        )
        mail(
            w,
            Category.ACCESS_REQUEST,
            manager,
            w.local(3, 14, 10),
            cc=f"it-approvals@{d}",
            subject=f"Access request: {person.name} requests billing portal",
        )
        mail(
            w,
            Category.SYSTEM,
            f"all-staff@{d}",
            w.local(6, 8, 0),
            bcc=", ".join(w.admins[:3]),
            subject="Scheduled maintenance this Saturday",
        )
        mail(w, Category.WELCOME, f"new.hire@{d}", w.ago(minutes=3), status=NotificationStatus.PENDING)
        mail(w, Category.MFA_ENROLLMENT, person.email, w.local(1, 13, 20), subject="TOTP reset")
        mail(w, Category.MFA_ENROLLMENT, f"old.mailbox@{d}", w.local(2, 16, 45), status=NotificationStatus.BOUNCED)
        mail(
            w,
            Category.ALERT,
            person.email,
            w.ago(hours=2, minutes=10),
            status=NotificationStatus.FAILED,
            subject="New sign-in to your account",
        )

    def fill(self, target: int) -> None:
        w = self.world
        rng = self.rng
        categories = [
            Category.INVITATION,
            Category.PASSWORD_RESET,
            Category.MFA_ENROLLMENT,
            Category.ACCESS_REQUEST,
            Category.ALERT,
            Category.SYSTEM,
            Category.WELCOME,
        ]
        weights = [14, 22, 12, 10, 26, 4, 12]
        while w.count("notifications") < target:
            category = rng.choices(categories, weights=weights)[0]
            when = w.pick_time(w.busy_cum, margin_minutes=1)
            roll = rng.random()
            status = (
                NotificationStatus.FAILED
                if roll < 0.04
                else NotificationStatus.BOUNCED
                if roll < 0.075
                else NotificationStatus.SENT
            )
            if when > w.ago(minutes=20) and rng.random() < 0.5:
                status = NotificationStatus.PENDING
            recipient = rng.choice(w.people).email
            cc = bcc = ""
            if category == Category.ACCESS_REQUEST:
                recipient, cc = rng.choice(w.admins), f"it-approvals@{w.domain}"
            elif category == Category.INVITATION and rng.random() < 0.5:
                cc = rng.choice(w.admins)
            elif category == Category.SYSTEM:
                recipient, bcc = f"all-staff@{w.domain}", ", ".join(w.admins[:2])
            mail(w, category, recipient, when, status=status, cc=cc, bcc=bcc)
