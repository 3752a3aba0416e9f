"""API tokens as the operator manages them: find one by what people can see of it, revoke it (DESIGN section 4).

A token is named by its display prefix (``amt_`` and 8 characters, shown when it is listed), by the whole token, or
by ``#id`` for one issued before prefixes were kept. Revoking is final and immediate: authentication looks at
``revoked_at`` on every request, so the next call with the token answers 401. Every revocation is audited in the
token's tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from authmon.auditing import CONSOLE_CLIENT, audit_record
from authmon.models import ApiToken, Tenant


class TokenNotFound(LookupError):
    """No single token of the tenant answers to the given handle (the message says why and what to give)."""


@dataclass(frozen=True)
class Revocation:
    token: ApiToken
    revoked_now: bool  # False when it was revoked already (nothing written)


def api_tokens_of(*, tenant: Tenant) -> list[ApiToken]:
    """The tenant's tokens for the console: usable ones first, newest first."""
    return list(ApiToken.objects.filter(tenant=tenant).order_by("revoked_at", "-created_at", "-pk"))


def api_token_find(*, tenant: Tenant, handle: str) -> ApiToken:
    """The token of ``tenant`` named by ``handle`` (display prefix, whole token or ``#id``)."""
    handle = handle.strip()
    tokens = ApiToken.objects.filter(tenant=tenant)
    found: list[ApiToken] = []
    if handle.startswith("#") and handle[1:].isdecimal():
        if len(handle) <= 19 and int(handle[1:]) < 2**63:  # larger is no id at all (and a database error if asked)
            found = list(tokens.filter(pk=int(handle[1:]), display_prefix=""))
    elif len(handle) > ApiToken.DISPLAY_LENGTH:
        found = list(tokens.filter(digest=ApiToken.hash(handle)))
    elif handle and "\x00" not in handle:  # no prefix holds a NUL, and PostgreSQL refuses to compare one
        found = list(tokens.filter(display_prefix=handle)[:2])
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise TokenNotFound(
            f"More than one token of tenant {tenant.slug} starts with '{handle}'; give the whole token."
        )
    raise TokenNotFound(
        f"Tenant {tenant.slug} has no API token '{handle}'. Give the prefix shown in the console's API tokens page "
        f"(e.g. {ApiToken.PREFIX}AbCd1234), the whole token, or #id for a token listed without a prefix."
    )


def api_token_revoke(
    *, token: ApiToken, actor: str, comment: str = "", client_actor: str = CONSOLE_CLIENT
) -> Revocation:
    """Revoke ``token`` now and audit it in its tenant (actor = who revoked it). Revoking twice writes nothing."""
    now = timezone.now()
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        token.refresh_from_db(fields=["revoked_at"])
        if revoked:
            audit_record(
                tenant=token.tenant,
                actor=actor,
                action="disable Secret",
                target=f"API token {token.handle}",
                subject=token.name,
                old={"id": token.pk, "scopes": token.scopes, "revoked": False},
                new={"id": token.pk, "scopes": token.scopes, "revoked": True},
                comments=comment.replace("\x00", "").strip()[:1000] or "API token revoked; it stopped working at once.",
                client_actor=client_actor,
            )
    return Revocation(token=token, revoked_now=bool(revoked))
