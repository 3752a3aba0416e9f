"""JSON as JSON defines it, for what authmon parses from outside (API bodies, restore archives).

Python's ``json`` also accepts ``NaN``, ``Infinity`` and floats beyond range (``1e999`` becomes ``inf``); JSON does not,
and neither does PostgreSQL's ``jsonb``. :func:`strict_loads` refuses them with :class:`NotJsonNumber`, a
``ValueError`` whose message says which number.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NotJsonNumber(ValueError):
    """NaN, Infinity or a float beyond range: Python's parser accepts them, JSON (and PostgreSQL) do not."""


def _refuse_constant(name: str) -> Any:
    raise NotJsonNumber(f"{name} is not a valid JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJsonNumber(f"the number {text[:40]} is out of range")
    return value


def strict_loads(text: str) -> Any:
    """Parse one JSON document with the standard parser, refusing what JSON does not allow (see the module)."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
