"""Demo audit logs: administrative changes in the demo world, for ``console.demo`` (``LogKind.demo_builder``).

The builder first makes the tenant's administered objects (:mod:`audit.demo_resources`) in their state at the
start of the window; every audit record then carries real before/after JSON, each update continuing from the object's
previous state. Scripted: the changes the guide asks about (the "Google" identity provider last week, a role named
"test role", deletes yesterday, the guide user's MFA reset); then random changes up to the audit share of the rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from audit.demo_resources import Resource, resource_mutate, resource_new, resources_build, user_state
from audit.models import AuditLog
from authmon.world import GUIDE_EMAIL, MASKED, DemoBuilder, DemoTenant


def audit_add(
    world: DemoTenant,
    action: str,
    target: str,
    when: dt.datetime,
    old: Any,
    new: Any,
    *,
    actor: str | None = None,
    subject: str = "",
    client: str = "admin console",
    comments: str = "",
) -> None:
    """Queue one audit record of ``action`` on ``target`` by ``actor`` (a random admin unless given)."""
    record = AuditLog(
        tenant_id=world.tenant.pk,
        action=action,
        target=target,
        actor=actor or world.rng.choice(world.admins),
        subject=subject,
        client_actor=client,
        timestamp=when,
        old_entity=old,
        new_entity=new,
        comments=comments,
    )
    record.compute_derived()  # bulk_create skips save(), where the diff is usually computed
    world.add("audit", record)


class AuditDemo(DemoBuilder):
    """The tenant's administrative changes: the scripted ones the guide asks about, then random ones."""

    kinds = ("audit",)
    order = 20
    share = 0.06

    def prepare(self) -> None:
        self.resources = resources_build(self.world)

    def script(self) -> None:
        """The changes the guide asks about: the Google IdP last week, "test role", deletes yesterday."""
        w = self.world
        d = w.domain
        google: dict[str, Any] = {
            "id": "idp_google",
            "name": "Google",
            "type": "oidc",
            "enabled": True,
            "issuer": "https://accounts.google.com",
            "client_id": "742913-demo.apps.googleusercontent.com",
            "scopes": ["openid", "email", "profile"],
            "config": {
                "timeout": 30,
                "prompt": "select_account",
                "hosted_domain": d,
                "claims_mapping": {"email": "email", "name": "name", "picture": "picture"},
            },
            "allowed_domains": [d],
        }
        audit_add(
            w,
            "create IdentityProvider",
            "Google",
            w.ago(days=58, hours=3),
            None,
            google,
            actor=w.admins[0],
            comments="Google sign-in for all staff",
        )
        # Last calendar month, whatever today is: a change to the Okta provider on the 20th (or the 1st).
        first_of_month = w.now.astimezone(w.tz).date().replace(day=1)
        last_month = (first_of_month - dt.timedelta(days=1)).replace(day=20)
        okta = next(r for r in self.resources["IdentityProvider"] if r.name == "Okta")
        self._update(
            okta,
            w.day_at(last_month, 11, 5),
            w.admins[1],
            "Raise Okta timeout after IdP incident",
            config={**okta.state["config"], "timeout": 45},
        )
        # Last week (calendar week starting Monday) and the last few days: the Google provider.
        today = w.now.astimezone(w.tz).date()
        monday = today - dt.timedelta(days=today.weekday() + 7)
        renamed = {
            **google,
            "name": "Google Workspace",
            "scopes": ["openid", "email"],
            "client_secret": MASKED,
            "config": {**google["config"], "timeout": 60},
        }
        audit_add(
            w,
            "update IdentityProvider",
            "Google",
            w.day_at(monday + dt.timedelta(days=1), 10, 14),
            google,
            renamed,
            actor=w.admins[0],
            comments="SEC-1423: rename, drop profile scope, store client secret",
        )
        prompt = {
            **renamed,
            "config": {**renamed["config"], "prompt": "consent", "claims_mapping": {"email": "email", "name": "name"}},
        }
        audit_add(
            w,
            "update IdentityProvider",
            "Google Workspace",
            w.day_at(monday + dt.timedelta(days=3), 16, 40),
            renamed,
            prompt,
            actor=w.admins[1],
            comments="Force consent screen",
        )
        rotated = {
            **prompt,
            "client_secret": MASKED,
            "client_secret_version": 2,
            "client_secret_rotated_at": w.local(3, 10, 2).isoformat(),
        }
        audit_add(
            w,
            "update IdentityProvider",
            "Google Workspace",
            w.local(3, 10, 2),
            prompt,
            rotated,
            actor=w.admins[2],
            client="terraform",
            comments="Quarterly client secret rotation",
        )
        disabled = {**rotated, "enabled": False}
        audit_add(
            w,
            "disable IdentityProvider",
            "Google Workspace",
            w.local(1, 14, 20),
            rotated,
            disabled,
            actor=w.admins[1],
            comments="INC-2207: sign-in loop reported by support",
        )
        audit_add(
            w,
            "enable IdentityProvider",
            "Google Workspace",
            w.local(1, 14, 31),
            disabled,
            rotated,
            actor=w.admins[1],
            comments="INC-2207: resolved, redirect URI fixed",
        )
        # "test role": created, changed twice, deleted yesterday.
        role: dict[str, Any] = {
            "id": "role_test_role",
            "name": "test role",
            "description": "Trying out permissions",
            "permissions": ["apps:read"],
        }
        audit_add(w, "create Role", "test role", w.local(12, 15, 30), None, role, actor=w.admins[3])
        role2 = {**role, "permissions": ["apps:read", "apps:write"]}
        audit_add(w, "update Role", "test role", w.local(9, 11, 2), role, role2, actor=w.admins[3])
        role3 = {**role2, "description": "Temporary: remove after the pilot", "permissions": ["apps:read"]}
        audit_add(
            w, "update Role", "test role", w.local(6, 9, 45), role2, role3, actor=w.admins[0], subject="apps:write"
        )
        audit_add(
            w,
            "delete Role",
            "test role",
            w.local(1, 10, 12),
            role3,
            None,
            actor=w.admins[0],
            comments="Pilot finished",
        )
        # More deletes yesterday.
        leaver = self.resources["User"][-1]
        leaver.alive = False
        audit_add(
            w,
            "delete User",
            leaver.name,
            w.local(1, 17, 3),
            leaver.state,
            None,
            actor=w.admins[4],
            comments="Leaver: HR ticket HR-5521",
        )
        contractors = next(r for r in self.resources["Group"] if r.name == "Contractors")
        contractors.alive = False
        audit_add(
            w,
            "delete Group",
            "Contractors",
            w.local(1, 11, 48),
            contractors.state,
            None,
            actor=w.admins[0],
            comments="Contractor programme ended",
        )
        # At least one ordinary update of every other resource type, whatever the row budget.
        for rtype, resources in self.resources.items():
            if rtype != "IdentityProvider":
                resource = self.rng.choice([r for r in resources if r.alive])
                new_state, subject = resource_mutate(w, resource)
                old_state, resource.state = resource.state, new_state
                audit_add(
                    w,
                    f"update {rtype}",
                    resource.name,
                    w.pick_time(w.busy_cum),
                    old_state,
                    new_state,
                    subject=subject,
                )
        # The guide user's account, administered.
        guide_state = user_state(w.guide)
        audit_add(
            w,
            "create User",
            GUIDE_EMAIL,
            w.ago(days=27),
            None,
            guide_state,
            actor=w.admins[4],
            client="scim connector",
        )
        mfa_reset = {**guide_state, "mfa_enrolled": False}
        audit_add(
            w,
            "update User",
            GUIDE_EMAIL,
            w.local(1, 9, 4),
            guide_state,
            mfa_reset,
            actor=w.admins[4],
            comments="TOTP reset requested by phone, identity verified",
        )

    def _update(self, resource: Resource, when: dt.datetime, actor: str, comments: str = "", **changes: Any) -> None:
        w = self.world
        old = resource.state
        resource.state = {**old, **changes}
        audit_add(
            w, f"update {resource.rtype}", resource.name, when, old, resource.state, actor=actor, comments=comments
        )

    def fill(self, target: int) -> None:
        self._changes_random(target)
        # The audit chain (audit.chain) links records in the order they are written: they go in in time order.
        self.world.rows.get("audit", []).sort(key=lambda record: record.timestamp)

    def _changes_random(self, target: int) -> None:
        w = self.world
        rng = self.rng
        needed = target - w.count("audit")
        if needed <= 0:
            return
        times = sorted(w.pick_time(w.busy_cum) for _ in range(needed))
        weights = {
            "IdentityProvider": 3,
            "Application": 14,
            "User": 34,
            "Group": 14,
            "Role": 6,
            "Permission": 4,
            "Template": 6,
            "TenantSettings": 4,
            "Secret": 6,
            "Certificate": 3,
        }
        rtypes, rweights = list(weights), list(weights.values())
        clients = ["admin console"] * 6 + ["management api", "terraform", "scim connector"]
        comments = [
            "",
            "",
            "",
            "",
            "Requested in ticket IT-{n}",
            "Change approved by CAB-{n}",
            "Onboarding",
            "Security review follow-up",
            "Quarterly access review",
        ]
        for when in times:
            rtype = rng.choices(rtypes, weights=rweights)[0]
            live = [r for r in self.resources.get(rtype, []) if r.alive]
            verb = rng.choices(["update", "create", "delete", "enable", "disable"], weights=[60, 16, 6, 9, 9])[0]
            if rtype not in {"IdentityProvider", "Application", "User"} and verb in {"enable", "disable"}:
                verb = "update"
            if rtype == "TenantSettings":
                verb = "update"
            if not live or (verb == "delete" and len(live) < 3):
                verb = "create"
            comment = rng.choice(comments).format(n=rng.randint(1000, 9999))
            client = rng.choice(clients) if rtype != "User" else rng.choice(clients + ["scim connector"] * 3)
            actor = f"scim@{w.domain}" if client == "scim connector" else rng.choice(w.admins)
            if verb == "create":
                resource = resource_new(w, self.resources, rtype)
                audit_add(
                    w,
                    f"create {rtype}",
                    resource.name,
                    when,
                    None,
                    resource.state,
                    actor=actor,
                    client=client,
                    comments=comment,
                )
                continue
            resource = rng.choice(live)
            old = resource.state
            subject = ""
            if verb == "delete":
                resource.alive = False
                new: dict[str, Any] | None = None
            elif verb in {"enable", "disable"}:
                new = {**old, "enabled": verb == "enable"}
                if rtype == "User":
                    new["status"] = "active" if verb == "enable" else "disabled"
            else:
                new, subject = resource_mutate(w, resource)
            if new is not None:
                resource.state = new
            audit_add(
                w,
                f"{verb} {rtype}",
                resource.name,
                when,
                old,
                new,
                actor=actor,
                client=client,
                subject=subject,
                comments=comment,
            )
