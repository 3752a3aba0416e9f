"""What every HTTP API route reads and writes (DESIGN section 6): the batch in a request body, query parameters,
and times as the API shows them.

The rules are the API's, not any one route's: a body is a JSON array of objects or NDJSON, within the byte and
record limits (413 above); a parameter is given once; a limit is 1 to 1000; a time without an offset is UTC and
goes out in UTC with a ``Z``. They live in the framework so that a kind app's own router reads and writes exactly
like the generated per-kind routes; refusals are raised as :class:`authmon.api_errors.ApiError`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Any

import orjson
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from pydantic import Field

from authmon.api_errors import ApiError, batch_error, param_error
from authmon.ingest import json_type
from authmon.strictjson import strict_loads

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
LIMIT_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines"})

# A time in an answer: a string the OpenAPI document marks as a date-time (pydantic would say nothing).
DATETIME_OUT = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


# ----------------------------------------------------------------------------------------------- request body


# orjson turns integers beyond 64 bits into floats: text with a run of 19 or more digits (anywhere, strings too)
# goes to the standard parser, which keeps them exact. Found by mapping every digit to "0" and everything else to
# a space and searching for nineteen "0"s, some ten times faster than a regular expression on a large batch.
_DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
_LONG_NUMBER = b"0" * 19


def _loads(text: str) -> Any:
    """Parse one JSON document: with orjson, and with the standard parser for anything orjson refuses.

    orjson is several times faster on a batch; whatever it refuses (malformed text, NaN, 1e999, lone surrogates,
    more than one document) is parsed again by ``json``, so that the error message and the NDJSON sniffing are
    exactly the standard parser's.
    """
    if _LONG_NUMBER not in text.encode("utf-8", "surrogatepass").translate(_DIGITS_ONLY):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return strict_loads(text)


_HOW = "Send a JSON array of record objects, or NDJSON with one record object per line."


def too_big_message() -> str:
    """The 413 detail for a body over the byte limit (also when Django refuses it before a route runs)."""
    return (
        f"The request body exceeds {settings.API_MAX_BYTES} bytes (10 MiB) per request; "
        "split the batch into smaller requests."
    )


def _parse_failure(exc: Exception, line: int | None = None) -> str:
    where = f"Line {line}: " if line is not None else ""
    if isinstance(exc, json.JSONDecodeError):
        at = f"column {exc.colno}" if line is not None else f"line {exc.lineno}, column {exc.colno}"
        return f"{where}malformed JSON at {at}: {exc.msg}. {_HOW}"
    if isinstance(exc, RecursionError):
        return f"{where}JSON is nested too deeply. {_HOW}"
    return f"{where}invalid JSON: {exc}. {_HOW}"


def _parse_ndjson(text: str) -> list[Any]:
    records: list[Any] = []
    # Split on "\n" only: str.splitlines() would also split inside strings holding U+2028 and friends.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(_loads(line))
        except (ValueError, RecursionError) as exc:
            raise batch_error(_parse_failure(exc, number), index=len(records)) from None
    return records


def read_records(request: HttpRequest) -> list[Any]:
    """The batch in the request body; enforces the byte and record limits (413) before and after parsing.

    A JSON array, or NDJSON (by content type, or sniffed: several JSON objects one per line); a single object is a
    batch of one. An empty body, text that is not JSON and a JSON value that is no array answer 400.
    """
    header = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(header)
    except ValueError:
        raise batch_error("The Content-Length header is not a number.") from None
    if length > settings.API_MAX_BYTES:
        raise ApiError(413, {"detail": too_big_message()})
    body = request.body
    if len(body) > settings.API_MAX_BYTES:
        raise ApiError(413, {"detail": too_big_message()})
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise batch_error(f"The request body is not valid UTF-8 (at byte {exc.start}).") from None
    if not text.strip():
        raise batch_error(f"The request body is empty. {_HOW}")
    if request.content_type in NDJSON_TYPES:
        records = _parse_ndjson(text)
    else:
        try:
            data = _loads(text)
        except json.JSONDecodeError as exc:
            # One whole JSON value followed by more: NDJSON sent without its content type.
            if exc.msg == "Extra data" and text.lstrip().startswith("{"):
                data = _parse_ndjson(text)
            else:
                raise batch_error(_parse_failure(exc)) from None
        except (ValueError, RecursionError) as exc:
            raise batch_error(_parse_failure(exc)) from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise batch_error(f"Expected a JSON array of record objects, got {json_type(data)}. {_HOW}")
        records = data
    if len(records) > settings.API_MAX_RECORDS:
        raise ApiError(
            413,
            {
                "detail": f"The batch has {len(records)} records; at most {settings.API_MAX_RECORDS} are accepted "
                "per request. Split it into smaller batches."
            },
        )
    return records


# ------------------------------------------------------------------------------------------- query parameters


def single_params(request: HttpRequest) -> dict[str, str]:
    """The query string as one value per name; 400 for a repeated name or a NUL character."""
    params: dict[str, str] = {}
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in v for v in values):
            raise param_error(name.replace("\x00", ""), "Parameters must not contain NUL characters.")
        if len(values) > 1:
            raise param_error(name, f"Give '{name}' once; repeated parameters are not supported.")
        params[name] = values[0]
    return params


def page_limit(raw: str | None) -> int:
    """``limit``: :data:`DEFAULT_LIMIT` when absent or blank, else a whole number from 1 to :data:`MAX_LIMIT`."""
    if raw is None or not raw.strip():
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise param_error("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return value


def aware(value: dt.datetime) -> dt.datetime:
    """``value`` with UTC as its zone when it has none (the API reads a time without an offset as UTC)."""
    return value.replace(tzinfo=dt.UTC) if timezone.is_naive(value) else value


def parse_time(name: str, raw: str) -> dt.datetime:
    """The ISO 8601 date or date-time in parameter ``name``, in UTC; 400 when it is none."""
    # "+02:00" arrives as " 02:00" when the client forgot to encode "+" (%2B) in the query string.
    text = re.sub(r"(?<=\d) (\d{2}(?::?\d{2})?)$", r"+\1", raw.strip())
    try:
        value = dt.datetime.fromisoformat(text)
        return aware(value).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise param_error(
            name, f"{name} must be an ISO 8601 date or date-time such as 2026-11-19T08:00:00Z (encode '+' as %2B)."
        ) from None


def query_param(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """One query parameter as the OpenAPI document lists it (the routes read the query string themselves)."""
    param = {"in": "query", "name": name, "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


# ------------------------------------------------------------------------------------------------------ output


def to_json(value: Any) -> Any:
    """A field's value as the API shows it: a date-time in UTC with a ``Z``, to the microsecond; else as is."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value
