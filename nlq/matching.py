"""Text patterns shared by the compiler and the transformer: "like" wildcards and enum matching."""

from __future__ import annotations

import re

from nlq.fields import Field
from nlq.ir import Op

_WILDCARDS = re.compile(r"[*%]+")


def like_parts(pattern: str) -> list[str]:
    """The literal parts of a "like" pattern between its wildcards (``*`` or ``%``)."""
    return _WILDCARDS.split(pattern)


def like_regex(pattern: str) -> str:
    """An anchored regular expression for a "like" pattern with wildcards; literal parts escaped."""
    return "^" + ".*".join(re.escape(part) for part in like_parts(pattern)) + "$"


def text_matches(op: Op, pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` under a positive pattern operator, ignoring case."""
    pattern_cf, text_cf = pattern.casefold(), text.casefold()
    if op == Op.CONTAINS:
        return pattern_cf in text_cf
    if op == Op.STARTSWITH:
        return text_cf.startswith(pattern_cf)
    if op == Op.ENDSWITH:
        return text_cf.endswith(pattern_cf)
    if op == Op.LIKE:
        if len(like_parts(pattern)) == 1:
            return pattern_cf in text_cf
        return re.fullmatch(like_regex(pattern), text, flags=re.IGNORECASE | re.DOTALL) is not None
    raise ValueError(op)


def enum_matches(f: Field, op: Op, pattern: str) -> tuple[str, ...]:
    """Stored values of enum field ``f`` whose value or label matches ``pattern`` under ``op``."""
    return tuple(c.value for c in f.choices if text_matches(op, pattern, c.value) or text_matches(op, pattern, c.label))
