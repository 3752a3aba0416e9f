"""The HTTP API's error answers (DESIGN section 6): one exception that carries a status and its JSON body, and the
schemas of those bodies for the OpenAPI document.

Every route raises :class:`ApiError` (the site's generated per-kind routes as much as a kind app's own router) and
the site's API turns it into the response, so an error body has one shape wherever it comes from. It lives in the
framework so that a kind app can add endpoints without importing the site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

MAX_ERRORS = 100  # a rejected batch reports this many problems (and the total count)


class ApiError(Exception):
    """An answer other than success: ``status`` and the JSON ``payload`` to send."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        super().__init__(payload)
        self.status = status
        self.payload = payload


def param_error(param: str | None, message: str, error: str = "parameter") -> ApiError:
    """400 for a query parameter: ``{"error": "parameter" | "cursor", "param", "message"}``."""
    return ApiError(400, {"error": error, "param": param, "message": message})


def cursor_error() -> ApiError:
    """400 for a cursor this listing did not issue (or no longer accepts)."""
    return param_error("cursor", "The cursor is not valid for this listing; start again without it.", error="cursor")


def batch_error(message: str, index: int | None = None) -> ApiError:
    """400 for a request body refused as a whole (index null) or at one record."""
    return ApiError(400, {"errors": [{"index": index, "field": None, "message": message}], "error_count": 1})


def batch_errors(errors: Sequence[Any]) -> ApiError:
    """400 for a batch with problems: the first :data:`MAX_ERRORS` of them and how many there are.

    ``errors`` are ``{"index", "field", "message"}`` dicts or objects whose ``as_dict()`` gives one (the ingest
    service's ``RecordError``); only those reported are converted.
    """
    first = [e if isinstance(e, dict) else e.as_dict() for e in errors[:MAX_ERRORS]]
    return ApiError(400, {"errors": first, "error_count": len(errors)})


def not_found_error(message: str) -> ApiError:
    return ApiError(404, {"detail": message})


class Detail(BaseModel):
    detail: str


class BatchErrorItem(BaseModel):
    index: int | None = Field(description="Position of the record in the batch; null for the body as a whole.")
    field: str | None
    message: str


class BatchErrors(BaseModel):
    errors: list[BatchErrorItem] = Field(description=f"The first {MAX_ERRORS} problems.")
    error_count: int


class QueryError(BaseModel):
    error: Literal["query"]
    message: str
    position: int | None
    suggestions: list[str]


class ParamError(BaseModel):
    error: Literal["parameter", "cursor"]
    param: str | None
    message: str
