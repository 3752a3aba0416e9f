"""Secrets never reach storage: values of sensitive keys in JSON fields are replaced by ``***`` before a record is
written (API ingest, ``audit_record`` and any ``AuditLog`` save, the demo loader).

A key is sensitive when, lower-cased and without separators (``clientSecret``, ``client-secret`` and
``client_secret`` are all ``clientsecret``), it *ends with* one of ``settings.AUTHMON_SENSITIVE_KEYS``: ``password``
catches ``db_password``, ``token`` catches ``refresh_token`` but not ``token_lifetime``. Under a sensitive key, text
and numbers are masked; booleans and nulls stay (``"refresh_token": true`` says a token exists, not what it is), and
objects and lists keep their shape with their text masked. Values that are secrets whatever their key (a JWT, a
``Bearer`` header, a PEM private key) are masked too. Masking is idempotent, so masked data can be masked again.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models

MASK = "***"
_DIFF_SUFFIXES = ("__added", "__deleted")
_SECRET_VALUES = re.compile(
    r"^(?:eyJ[\w-]{4,}\.eyJ[\w-]*\.[\w-]*"  # a JSON Web Token
    r"|bearer\s+\S+"  # an Authorization header value
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*)$",  # a PEM private key
    re.IGNORECASE | re.DOTALL,
)


def _normal(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


@lru_cache(maxsize=8)
def _suffixes(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in (_normal(k) for k in keys) if n)


def sensitive_keys() -> tuple[str, ...]:
    return _suffixes(tuple(getattr(settings, "AUTHMON_SENSITIVE_KEYS", ())))


def is_sensitive(key: Any) -> bool:
    """Whether values under ``key`` are secrets (``key__added`` / ``key__deleted`` of a diff count as ``key``)."""
    if not isinstance(key, str):
        return False
    for suffix in _DIFF_SUFFIXES:
        key = key.removesuffix(suffix)
    normal = _normal(key)
    return bool(normal) and normal.endswith(sensitive_keys())


def _hide(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (str, int, float)):
        return MASK if value != "" else value
    if isinstance(value, dict):
        return {k: _hide(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide(v) for v in value]
    return value


def mask(value: Any) -> Any:
    """A copy of a JSON value with every secret masked (see the module docstring)."""
    if isinstance(value, dict):
        return {k: _hide(v) if is_sensitive(k) else mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str) and _SECRET_VALUES.match(value.strip()):
        return MASK
    return value


def mask_fields(values: dict[str, Any], model: type[models.Model]) -> dict[str, Any]:
    """``values`` (by field name) with the model's JSON fields masked."""
    json_fields = {f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField)}
    return {k: mask(v) if k in json_fields else v for k, v in values.items()}


def mask_instance(obj: models.Model) -> None:
    """Mask the JSON fields of a model instance in place, before it is written."""
    for f in obj._meta.concrete_fields:
        if isinstance(f, models.JSONField):
            setattr(obj, f.attname, mask(getattr(obj, f.attname)))
