"""What an ingested record must be, and the words for what is wrong with it (the first half of :mod:`authmon.ingest`).

Every record is checked against a schema generated from its kind's model (:func:`record_schema`): one pydantic call
over the whole batch when it is valid, with pydantic's own constraints standing in for Django's field checks where
they are the same (text lengths; a dotted-quad IPv4 address); a batch with a problem is checked again record by
record to word an error per problem (index, field, message). Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    create_model,
)
from pydantic import ValidationError as PydanticValidationError

from authmon import registry
from authmon.registry import LogKind
from authmon.security.masking import mask, mask_fields

logger = logging.getLogger(__name__)

MAX_JSON_DEPTH = 100


@dataclass(frozen=True)
class RecordError:
    """One problem with one record: ``index`` in the batch (None for the batch as a whole) and the field."""

    index: int | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


class IngestValidationError(Exception):
    """The batch was rejected before anything was stored; ``errors`` says what to fix, record by record."""

    def __init__(self, errors: list[RecordError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the batch")
        self.errors = errors


# --------------------------------------------------------------------------------------------------- schemas


def _require_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string such as 2026-11-19T08:30:00Z")
    return value


def _to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("date-time is out of range") from None


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _django_validators(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """Run the model field's own normalisation and validators (e.g. IP address syntax) on a typed value."""

    # Dotted-quad IPv4 text as written (no leading zeros) is what Django's to_python and validators make of it.
    ipv4_as_is = isinstance(field, models.GenericIPAddressField) and field.protocol.lower() == "both"

    def check(value: Any) -> Any:
        if value is None or (ipv4_as_is and _IPV4.fullmatch(value)):
            return value
        try:
            value = field.to_python(value)
            field.run_validators(value)
        except DjangoValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None
        return value

    return check


def _plain_text(field: models.Field[Any, Any]) -> bool:
    """Whether Django's own checks of a text field are exactly pydantic's ``max_length`` (and the NUL check).

    Then the schema need not call back into Django for every value, which is most of validation's cost; a field
    with any other validator or normalisation (an IP address, a custom validator) keeps the Django call.
    """
    if type(field).to_python not in (models.CharField.to_python, models.TextField.to_python):
        return False
    return all(isinstance(v, (MaxLengthValidator, ProhibitNullCharactersValidator)) for v in field.validators)


def _annotation(field: models.Field[Any, Any]) -> tuple[Any, dict[str, Any]]:
    """The pydantic type and Field() keywords for one model field."""
    constraints: dict[str, Any] = {}
    annotation: Any
    if field.choices:
        annotation = Literal[tuple(value for value, _label in field.flatchoices)]
    elif isinstance(field, models.JSONField):
        annotation = dict[str, Any] if field.default is dict else Any
        constraints["description"] = "Any JSON value." if annotation is Any else "A JSON object."
    elif isinstance(field, models.DateTimeField):
        annotation = Annotated[dt.datetime, BeforeValidator(_require_text), AfterValidator(_to_utc)]
        constraints["description"] = "ISO 8601 date-time. A time without an offset is taken as UTC."
    elif isinstance(field, models.BooleanField):
        annotation = StrictBool
    elif isinstance(field, models.IntegerField):
        annotation = Annotated[StrictInt, AfterValidator(_django_validators(field))]
    elif isinstance(field, (models.CharField, models.TextField, models.GenericIPAddressField)):
        annotation = str if _plain_text(field) else Annotated[str, AfterValidator(_django_validators(field))]
        if field.max_length:
            constraints["max_length"] = field.max_length
        if not field.blank or field.null:
            # A required text field must say something; on a nullable one, "" would be a second kind of "none"
            # (and an empty external_id would silently make every later empty one a duplicate).
            constraints["min_length"] = 1
    else:
        raise TypeError(f"{field.model.__name__}.{field.name}: no API type for {type(field).__name__}")
    if field.null:
        annotation = annotation | None
    return annotation, constraints


def input_fields(kind: LogKind) -> list[models.Field[Any, Any]]:
    """Fields a client may send: the editable record fields (not id, tenant or anything computed by authmon)."""
    return [f for f in kind.data_fields if f.editable and f.name not in kind.computed_fields]


@cache
def _record_schema(name: str) -> type[BaseModel]:
    kind = registry.get(name)
    definitions: dict[str, Any] = {}
    for field in input_fields(kind):
        annotation, constraints = _annotation(field)
        if field.has_default():
            if callable(field.default):
                constraints["default_factory"] = field.default
            else:
                constraints["default"] = field.default
        elif field.null:
            constraints["default"] = None
        elif field.blank and isinstance(field, (models.CharField, models.TextField)) and not field.choices:
            constraints["default"] = ""
        # else: required
        definitions[field.name] = (annotation, Field(**constraints))
    return create_model(
        f"{kind.model.__name__}In",
        __config__=ConfigDict(extra="forbid", title=f"{kind.model.__name__}In"),
        __doc__=f"One {kind.name} record as a client sends it.",
        **definitions,
    )


def record_schema(kind: LogKind) -> type[BaseModel]:
    """The pydantic model of one incoming record of ``kind``, generated from the model's fields.

    Unknown fields are refused, choice fields are literals, text lengths come from the model, JSON fields take
    any JSON (an object where the model defaults to one), date-times must be ISO 8601 strings and are stored in
    UTC (a naive time is taken as UTC). Fields with a model default may be left out.
    """
    return _record_schema(kind.name)


# ------------------------------------------------------------------------------------------------ validation


@dataclass(frozen=True)
class _Record:
    index: int
    values: dict[str, Any]  # every input field, defaults applied
    sent: frozenset[str]  # the fields the client actually sent


def _unknown_field_message(kind: LogKind, name: str, allowed: list[str]) -> str:
    if name == "tenant":
        return "The tenant comes from the API token; remove this field."
    if name == "id":
        return "id is assigned by authmon; send your own key as external_id."
    if name in kind.computed_fields:
        return f"{name} is computed by authmon; do not send it."
    if name in {f.name for f in kind.data_fields}:
        return f"{name} is set by authmon; do not send it."
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"Unknown field.{hint} Allowed fields: {', '.join(allowed)}."


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Why a parsed JSON value cannot be stored (NUL characters, invalid Unicode, absurd nesting), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "Text must not contain NUL (\\u0000) characters."
        if value.isascii():  # the common case, and no surrogate can hide in it
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Text contains an unpaired UTF-16 surrogate (invalid Unicode)."
        return None
    if value is None or type(value) is int or type(value) is bool:
        return None
    if depth > MAX_JSON_DEPTH:
        return f"JSON is nested more than {MAX_JSON_DEPTH} levels deep."
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _json_problem(key, depth + 1) or _json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, float) and not math.isfinite(value):
        return "NaN and Infinity are not valid JSON numbers."
    return None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _pydantic_errors(kind: LogKind, index: int, exc: PydanticValidationError) -> Iterator[RecordError]:
    allowed = [f.name for f in input_fields(kind)]
    for err in exc.errors(include_url=False, include_context=False):
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else None
        kind_of_error = err.get("type", "")
        if kind_of_error == "extra_forbidden" and name is not None:
            message = _unknown_field_message(kind, name, allowed)
        elif kind_of_error == "missing":
            message = "This field is required."
        elif kind_of_error == "model_type":
            message = f"Each record must be a JSON object, not {json_type(err.get('input'))}."
        else:
            message = str(err.get("msg", "Invalid value.")).removeprefix("Value error, ")
            message = message[:1].upper() + message[1:]
            if not message.endswith("."):
                message += "."
        yield RecordError(index, name, message)


@cache
def _batch_adapter(name: str) -> TypeAdapter[list[BaseModel]]:
    return TypeAdapter(list[_record_schema(name)])  # type: ignore[valid-type]


@cache
def _json_names(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField))


def _records_fast(kind: LogKind, records: list[Any]) -> list[_Record] | None:
    """The whole batch validated in one pydantic call, or None when any record has a problem.

    The common case, a valid batch, then costs one pass; a batch with a problem is checked again record by record
    by :func:`records_validate`, which alone words the errors (so they are the same whichever path ran).
    """
    for raw in records:
        if type(raw) is not dict:
            return None
        for name, value in raw.items():
            if _json_problem(name) or _json_problem(value):
                return None
    adapter = _batch_adapter(kind.name)
    try:
        validated = adapter.validate_python(records)
    except PydanticValidationError:
        return None
    json_names = _json_names(kind.model)
    cleaned: list[_Record] = []
    for index, (record, values) in enumerate(zip(validated, adapter.dump_python(validated), strict=True)):
        for name in json_names:
            if name in values:
                values[name] = mask(values[name])  # secrets never reach storage
        cleaned.append(_Record(index, values, frozenset(record.model_fields_set)))
    return cleaned


def records_validate(*, kind: LogKind, records: Iterable[Any]) -> list[_Record]:
    """Check every record of a batch; return them cleaned, or raise :class:`IngestValidationError` with all errors."""
    records = records if isinstance(records, list) else list(records)
    fast = _records_fast(kind, records)
    if fast is not None:
        return fast
    schema = record_schema(kind)
    cleaned: list[_Record] = []
    errors: list[RecordError] = []
    for index, raw in enumerate(records):
        flagged: set[str] = set()
        if isinstance(raw, Mapping):
            for name, value in raw.items():
                if problem := _json_problem(name) or _json_problem(value):
                    errors.append(RecordError(index, str(name), problem))
                    flagged.add(name)
            if flagged:  # still check the rest of the record, so that the client sees every problem at once
                raw = {name: value for name, value in raw.items() if name not in flagged}
        try:
            record = schema.model_validate(raw)
        except PydanticValidationError as exc:
            errors.extend(e for e in _pydantic_errors(kind, index, exc) if e.field not in flagged)
            continue
        if not flagged:
            values = mask_fields(record.model_dump(), kind.model)  # secrets never reach storage
            cleaned.append(_Record(index, values, frozenset(record.model_fields_set)))
    if errors:
        raise IngestValidationError(errors)
    return cleaned
