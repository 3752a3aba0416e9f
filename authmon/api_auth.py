"""Bearer-token authentication for the HTTP API (DESIGN section 6).

A token belongs to one tenant and carries scopes; each operation asks for one scope. No token or a bad one answers
401, a good token without the scope 403. The tenant of every API call is ``request.auth.tenant``, never the body.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from authmon.models import ApiScope, ApiToken, Tenant
from authmon.security.ratelimit import api_rate_check
from authmon.tenancy import db_tenant_set

FAILURE_ATTR = "_authmon_auth_failure"


class ApiTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` checked against the hashed :class:`ApiToken` table, plus one scope.

    When it refuses a request it leaves the reason on the request, so that the 401 can say what to fix.
    """

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        header = request.headers.get("Authorization", "").strip()
        scheme, _, raw = header.partition(" ")
        raw = raw.strip()
        if not header:
            reason = "Authentication required: send the header 'Authorization: Bearer <token>'."
        elif scheme.lower() != "bearer" or not raw:
            reason = "The Authorization header must have the form 'Bearer <token>'."
        else:
            token = self.authenticate(request, raw)
            if token is not None:
                return token
            reason = "The API token is not valid: it is unknown or has been revoked."
        setattr(request, FAILURE_ATTR, reason)
        return None

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        """The token, and from here on the database shows only its tenant's rows (the API's one place for it)."""
        tenant_id = ApiToken.objects.tenant_of(token)
        if tenant_id is None:
            return None
        db_tenant_set(tenant_id)
        found = ApiToken.objects.authenticate(token)
        if found is not None:
            api_rate_check(token_id=found.pk)  # 429 with Retry-After over the per-token limit
        if found is not None and not found.has_scope(self.scope):
            raise AuthorizationError(
                message=f"This API token lacks the '{self.scope}' scope; create one with "
                f"'manage.py create_api_token --tenant {found.tenant.slug} --scopes {self.scope}'."
            )
        return found


def failure_reason(request: HttpRequest) -> str:
    """Why authentication refused ``request`` (for the 401 body)."""
    return getattr(request, FAILURE_ATTR, "Authentication required: send 'Authorization: Bearer <token>'.")


ingest_auth = ApiTokenAuth(ApiScope.INGEST)
read_auth = ApiTokenAuth(ApiScope.READ)


def request_tenant(request: HttpRequest) -> Tenant:
    """The tenant of an authenticated API request: its token's, never one named in the body or the URL."""
    return request.auth.tenant  # type: ignore[attr-defined,no-any-return]


def token_actor(request: HttpRequest) -> str:
    """The request's API token as audit records name it: its name (as create_api_token audits it) and number."""
    token = request.auth  # type: ignore[attr-defined]
    return f"API token {token.name} (#{token.pk})" if token.name else f"API token {token.pk}"
