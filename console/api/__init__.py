"""HTTP API (DESIGN section 6): ingest and read every registered record kind with a bearer token.

The routes are generated from the log-kind registry, like the console's pages: one set of generic handlers is
bound to each kind, so every kind gets its own paths and its own record schema in ``/api/v1/openapi.json`` and a
new kind needs nothing here. Per kind:

- ``POST /{kind}/``: a JSON array of records, or NDJSON (``Content-Type: application/x-ndjson``, or sniffed:
  several JSON objects one per line; a single object is a batch of one). Ingest rules live in
  the ingest module. An empty array is accepted (201, all counts zero) so that forwarders can flush
  unconditionally; an empty body is a 400.
- ``GET /{kind}/``: newest first with a keyset cursor; ``q`` (a question), ``limit``, ``cursor`` and any field as an
  exact filter (a date-time without an offset is UTC; an empty value on a nullable field means "is empty").
- ``GET /{kind}/{id}/`` and, for upserted kinds, ``GET /{kind}/by-<key>/{key}/`` (sessions by session id).
- ``GET /revocations/``: session and grant revocations, oldest first, for the identity service to poll.

Errors: 400 ``{"errors": [...]}`` for a rejected batch (also for a body that is not JSON, with index null),
400 ``{"error": "query", ...}`` for a question, 400 ``{"error": "parameter" | "cursor", "param", "message"}`` for
other query parameters, ``{"detail": ...}`` for 401, 403, 404, 405, 409 and 413. No input answers 500.
Times are ISO 8601 in UTC with a ``Z``, to the microsecond.
"""
# The package (the docstring above is the OpenAPI document's description, so the layout is told here):
#   errors.py   the exception handlers: every refusal in its JSON shape
#   schemas.py  the per-kind record, page and request schemas, and record_out
#   kinds.py    the routes generated for every registered kind
# The revocations feed and the bounce report are their apps' own routers (sessions_grants/api.py,
# notifications/api.py); what every route shares (ApiError, token auth, body and parameter readers) is the
# framework's (authmon/api_errors.py, api_auth.py, api_io.py). The site only composes: this module mounts them all,
# the catch-all last so that it shadows none of them.

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI, Router

from authmon import registry
from authmon.api_errors import not_found_error
from console.api import kinds
from console.api.errors import handlers_install
from notifications.api import router as notifications_router
from sessions_grants.api import router as sessions_grants_router

api = NinjaAPI(
    title="authmon API",
    version="1",
    urls_namespace="api",
    description=(__doc__ or "").split("\n\n", 1)[1].strip(),
)
handlers_install(api)
api.add_router("", kinds.router)
api.add_router("", sessions_grants_router)
api.add_router("", notifications_router)

fallback = Router()


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False)
def not_found(request: HttpRequest, rest: str) -> Any:
    """A JSON 404 for any other path under /api/v1/ (and no POST-to-slash redirect from CommonMiddleware)."""
    known = ", ".join(k.name for k in registry.kinds())
    first = rest.strip("/").split("/", 1)[0]
    if not rest.endswith("/"):
        raise not_found_error(f"No such API path. API paths end with a slash: /api/v1/{rest}/")
    if first not in {k.name for k in registry.kinds()} and first != "revocations":
        raise not_found_error(f"Unknown record kind '{first}'. Kinds: {known}; also revocations.")
    raise not_found_error("No such API path or record.")


api.add_router("", fallback)
