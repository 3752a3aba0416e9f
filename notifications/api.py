"""The notifications app's own API route (DESIGN section 6): ``POST /api/v1/notifications/bounces/``.

Mail systems report bounced e-mails here; the route marks the notifications bounced through
:func:`notifications.services.notifications_bounce`. It reads and answers like the generated per-kind routes (the
framework's token auth, body reader and error shapes); the site mounts :data:`router` on its API.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from pydantic import BaseModel, Field

from authmon.api_auth import ingest_auth, request_tenant
from authmon.api_errors import BatchErrors, Detail, batch_errors
from authmon.api_io import read_records
from notifications.services import BounceValidationError, notifications_bounce

router = Router()


class BounceOut(BaseModel):
    bounced: int = Field(description="Notifications now marked bounced.")
    already_bounced: int
    not_found: list[int] = Field(description="Indexes of the reports that matched no notification of this tenant.")


@router.post(
    "/notifications/bounces/",
    auth=ingest_auth,
    response={200: BounceOut, 400: BatchErrors, 401: Detail, 403: Detail, 413: Detail},
    operation_id="notifications_bounces",
    url_name="notifications_bounces",
    summary="Report bounced e-mails",
    description=(
        'A JSON array (or NDJSON) of {"id": n} or {"external_id": "..."} objects with an optional "reason": each '
        "notification becomes bounced, the reason appended to its body. For authmon's own mail the external_id is "
        "its Message-ID. Any invalid report rejects the whole request."
    ),
    tags=["notifications"],
)
def notification_bounces(request: HttpRequest) -> Any:
    try:
        result = notifications_bounce(tenant=request_tenant(request), items=read_records(request))
    except BounceValidationError as exc:
        raise batch_errors(exc.errors) from None
    return result.as_dict()
