"""The administered objects of a demo tenant, whose changes the demo audit log records (see :mod:`audit.demo`).

Identity providers, applications, groups, roles, permissions, templates, the tenant settings, secrets, certificates
and users: their state at the start of the demo window, new ones, and the next state of one for an update. Secret
values are already masked, as the identity service shows them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from authmon.world import APPS, MASKED, DemoTenant, Person


@dataclass
class Resource:
    """An administered object whose state evolves through the audit log."""

    rtype: str
    name: str
    state: dict[str, Any]
    alive: bool = True


def resources_build(world: DemoTenant) -> dict[str, list[Resource]]:
    """The administered objects of the tenant, in their state at the start of the demo window."""
    d = world.domain
    resources: dict[str, list[Resource]] = {}

    def add(rtype: str, name: str, state: dict[str, Any]) -> None:
        resources.setdefault(rtype, []).append(Resource(rtype, name, state))

    for name, issuer in (
        ("Azure AD", "https://login.microsoftonline.com/3f1c2a9e/v2.0"),
        ("Okta", "https://example.okta.com"),
    ):
        add(
            "IdentityProvider",
            name,
            {
                "id": f"idp_{name.lower().replace(' ', '_')}",
                "name": name,
                "type": "oidc",
                "enabled": True,
                "issuer": issuer,
                "client_id": world.uid(),
                "client_secret": MASKED,
                "scopes": ["openid", "email", "profile"],
                "config": {"timeout": 30, "jit_provisioning": True, "claims_mapping": {"email": "email"}},
            },
        )
    for app in APPS:
        add(
            "Application",
            app.name,
            {
                "id": f"app_{app.slug}",
                "name": app.name,
                "protocol": app.protocol.lower(),
                "enabled": True,
                "client_id": app.slug,
                "client_secret": MASKED if app.protocol == "OIDC" else None,
                "redirect_uris": [f"https://{app.slug}.{d}/oauth/callback"],
                "scopes": list(app.scopes),
                "token_lifetime": {"access_seconds": 3600, "refresh_days": app.grant_days},
                "pkce_required": app.protocol == "OIDC",
            },
        )
    for name, roles in (
        ("Engineering", ["developer"]),
        ("Finance", ["billing viewer"]),
        ("Support", ["helpdesk"]),
        ("Admins", ["app admin"]),
        ("Contractors", ["developer"]),
    ):
        add(
            "Group",
            name,
            {
                "id": f"grp_{name.lower()}",
                "name": name,
                "roles": roles,
                "members": sorted(world.rng.sample([p.email for p in world.people], 3)),
            },
        )
    for name, perms in (
        ("developer", ["apps:read", "logs:read"]),
        ("billing viewer", ["billing:read"]),
        ("helpdesk", ["users:read", "users:reset_mfa"]),
        ("app admin", ["apps:write", "apps:read"]),
    ):
        add("Role", name, {"id": f"role_{name.replace(' ', '_')}", "name": name, "permissions": perms})
    for name in ("apps:read", "apps:write", "billing:read", "billing:write", "users:read", "users:reset_mfa"):
        add(
            "Permission",
            name,
            {
                "id": f"perm_{name.replace(':', '_')}",
                "name": name,
                "resource": name.split(":")[0],
                "actions": [name.split(":")[1]],
            },
        )
    for name, subject in (
        ("password_reset_email", "Password reset"),
        ("invitation_email", "You're invited"),
        ("login_page", None),
        ("totp_reset_email", "TOTP reset"),
    ):
        state: dict[str, Any] = {
            "id": f"tpl_{name}",
            "name": name,
            "locale": "en",
            "version": 1,
            "html": f"<h1>{subject or 'Sign in'}</h1><p>{{{{ body }}}}</p>",
        }
        if subject:
            state["subject"] = subject
        add("Template", name, state)
    add(
        "TenantSettings",
        world.tenant.name,
        {
            "session_lifetime_minutes": 720,
            "password_policy": {"min_length": 12, "require_symbols": True, "max_age_days": 180},
            "mfa": {"required": True, "methods": ["totp", "webauthn", "sms"]},
            "lockout": {"threshold": 5, "duration_minutes": 15},
        },
    )
    for name in ("SMTP password", "SCIM bearer token", "webhook signing key"):
        add(
            "Secret",
            name,
            {
                "id": f"sec_{name.split()[0].lower()}",
                "name": name,
                "value": MASKED,
                "version": 1,
                "rotated_at": world.ago(days=90).date().isoformat(),
            },
        )
    for name, usage in (("SAML signing certificate", "saml-signing"), (f"TLS certificate login.{d}", "tls")):
        add("Certificate", name, _certificate(world, name, usage, world.ago(days=300)))
    for person in world.people[:40]:
        add("User", person.email, user_state(person))
    return resources


def _certificate(world: DemoTenant, name: str, usage: str, issued: dt.datetime) -> dict[str, Any]:
    fingerprint = ":".join(f"{world.rng.randint(0, 255):02X}" for _ in range(32))
    return {
        "id": f"cert_{usage}",
        "name": name,
        "usage": usage,
        "subject": f"CN=login.{world.domain}",
        "fingerprint_sha256": fingerprint,
        "not_before": issued.date().isoformat(),
        "not_after": (issued + dt.timedelta(days=397)).date().isoformat(),
    }


def user_state(person: Person) -> dict[str, Any]:
    return {
        "id": person.user_id,
        "email": person.email,
        "name": person.name,
        "status": "active",
        "enabled": True,
        "provider": person.provider,
        "groups": ["Engineering"],
        "roles": [],
        "mfa_enrolled": person.mfa is not None,
    }


def resource_new(world: DemoTenant, resources: dict[str, list[Resource]], rtype: str) -> Resource:
    """A new object of ``rtype``, added to ``resources``."""
    rng = world.rng
    number = len(resources.get(rtype, [])) + 1
    if rtype == "User":
        person = rng.choice(world.people)
        resource = Resource(rtype, person.email, user_state(person))
    elif rtype == "Group":
        name = rng.choice(["Marketing", "Sales", "Legal", "Data", "Security", "Interns"]) + f" {number}"
        resource = Resource(rtype, name, {"id": f"grp_{number}", "name": name, "roles": [], "members": []})
    elif rtype == "Role":
        name = rng.choice(["auditor", "reporting", "support lead", "release manager"]) + f" {number}"
        resource = Resource(rtype, name, {"id": f"role_{number}", "name": name, "permissions": ["apps:read"]})
    elif rtype == "Permission":
        name = f"{rng.choice(['reports', 'webhooks', 'groups', 'audit'])}:{rng.choice(['read', 'write'])}"
        resource = Resource(
            rtype,
            name,
            {"id": f"perm_{number}", "name": name, "resource": name.split(":")[0], "actions": [name.split(":")[1]]},
        )
    elif rtype == "Application":
        name = f"{rng.choice(['analytics dashboard', 'wiki', 'ci pipeline', 'crm'])} {number}"
        slug = name.replace(" ", "-")
        resource = Resource(
            rtype,
            name,
            {
                "id": f"app_{slug}",
                "name": name,
                "protocol": "oidc",
                "enabled": True,
                "client_id": slug,
                "client_secret": MASKED,
                "redirect_uris": [f"https://{slug}.{world.domain}/oauth/callback"],
                "scopes": ["openid", "email"],
                "token_lifetime": {"access_seconds": 3600, "refresh_days": 30},
                "pkce_required": True,
            },
        )
    elif rtype == "IdentityProvider":
        name = f"Partner SAML IdP {number}"
        resource = Resource(
            rtype,
            name,
            {
                "id": f"idp_partner_{number}",
                "name": name,
                "type": "saml",
                "enabled": False,
                "metadata_url": f"https://idp{number}.example.net/md",
                "config": {"timeout": 30, "sign_requests": True},
            },
        )
    elif rtype == "Template":
        name = f"{rng.choice(['welcome', 'access_request', 'alert'])}_email_{number}"
        resource = Resource(
            rtype,
            name,
            {
                "id": f"tpl_{number}",
                "name": name,
                "locale": "en",
                "version": 1,
                "subject": name.replace("_", " ").title(),
                "html": "<p>Hello</p>",
            },
        )
    elif rtype == "Secret":
        name = f"{rng.choice(['API key', 'LDAP bind password', 'S3 access key'])} {number}"
        resource = Resource(
            rtype, name, {"id": f"sec_{number}", "name": name, "value": MASKED, "version": 1, "rotated_at": None}
        )
    else:  # Certificate (TenantSettings is never created)
        name = f"SAML encryption certificate {number}"
        resource = Resource(rtype, name, _certificate(world, name, "saml-encryption", world.ago(days=2)))
    resources.setdefault(rtype, []).append(resource)
    return resource


def resource_mutate(world: DemoTenant, resource: Resource) -> tuple[dict[str, Any], str]:
    """The next state of ``resource`` for an update, and the subject (secondary entity) of the change."""
    rng = world.rng
    state = dict(resource.state)
    rtype = resource.rtype
    if rtype == "User":
        choice = rng.randrange(4)
        if choice == 0:
            group = rng.choice(["Engineering", "Finance", "Support", "Admins"])
            state["groups"] = sorted({*state.get("groups", []), group})
            return state, group
        if choice == 1:
            role = rng.choice(["developer", "billing viewer", "helpdesk", "app admin"])
            state["roles"] = sorted({*state.get("roles", []), role})
            return state, role
        if choice == 2:
            state["mfa_enrolled"] = not state.get("mfa_enrolled", False)
            return state, ""
        state["department"] = rng.choice(["Engineering", "Finance", "Sales", "Support", "Legal"])
        state["phone"] = f"+1 555 01{rng.randint(10, 99)}"
        return state, ""
    if rtype == "Group":
        member = rng.choice(world.people).email
        members = list(state.get("members", []))
        if member in members:
            members.remove(member)
        else:
            members.append(member)
        state["members"] = sorted(members)
        return state, member
    if rtype == "Role":
        permission = rng.choice(["apps:read", "apps:write", "billing:read", "users:read", "logs:read"])
        permissions = set(state.get("permissions", []))
        permissions.symmetric_difference_update({permission})
        state["permissions"] = sorted(permissions)
        return state, permission
    if rtype == "Application":
        choice = rng.randrange(3)
        if choice == 0:
            lifetime = dict(state.get("token_lifetime", {}))
            lifetime["access_seconds"] = rng.choice([900, 1800, 3600, 7200])
            state["token_lifetime"] = lifetime
        elif choice == 1:
            uris = list(state.get("redirect_uris", []))
            uris.append(f"https://{resource.name.replace(' ', '-')}-{rng.randint(2, 9)}.{world.domain}/callback")
            state["redirect_uris"] = uris
        else:
            state["client_secret"] = MASKED
            state["client_secret_rotated_at"] = world.now.date().isoformat()
        return state, ""
    if rtype == "IdentityProvider":
        config = dict(state.get("config", {}))
        config["timeout"] = rng.choice([15, 30, 45, 60, 90])
        state["config"] = config
        return state, ""
    if rtype == "Permission":
        actions = list(state.get("actions", []))
        state["actions"] = sorted({*actions, rng.choice(["read", "write", "delete"])})
        return state, ""
    if rtype == "Template":
        state["version"] = int(state.get("version", 1)) + 1
        state["html"] = f"<h1>{state.get('subject', 'Sign in')}</h1><p>Revision {state['version']}</p>"
        return state, ""
    if rtype == "TenantSettings":
        choice = rng.randrange(3)
        if choice == 0:
            state["session_lifetime_minutes"] = rng.choice([240, 480, 720, 1440])
        elif choice == 1:
            policy = dict(state["password_policy"])
            policy["min_length"] = rng.choice([10, 12, 14, 16])
            state["password_policy"] = policy
        else:
            lockout = dict(state["lockout"])
            lockout["threshold"] = rng.choice([3, 5, 10])
            state["lockout"] = lockout
        return state, ""
    if rtype == "Secret":
        state["version"] = int(state.get("version", 1)) + 1
        state["rotated_at"] = world.now.date().isoformat()
        return state, ""
    # Certificate: renewed.
    renewed = _certificate(world, state["name"], state["usage"], world.ago(days=rng.randint(0, 20)))
    return renewed, ""
