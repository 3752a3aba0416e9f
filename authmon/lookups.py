"""ORM lookups the NLQ compiler relies on; imported from ``AuthmonConfig.ready`` to register them.

``details__text_icontains="timeout"`` matches a JSONField whose JSON text contains "timeout", ignoring case, on
PostgreSQL and SQLite alike. Django's own ``icontains`` on a JSONField compares against the stored text as is,
which misses any value the JSON encoding escapes (quotes, backslashes, and on SQLite every non-ASCII letter,
stored as ``\\u00e9``): here the search term is JSON-escaped the way the backend stores it first.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Lookup
from django.db.models.sql.compiler import SQLCompiler

from nlq import JSON_TEXT_LOOKUP


@models.JSONField.register_lookup
class JSONTextIContains(Lookup):  # type: ignore[type-arg]
    """Case-insensitive containment of a text in a JSON value's serialised form (keys and values)."""

    lookup_name = JSON_TEXT_LOOKUP
    prepare_rhs = False

    def get_db_prep_lookup(self, value: Any, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        return "%s", [value]

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, list[Any]]:
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        term = str(self.rhs)
        if connection.vendor == "postgresql":
            # jsonb's text output escapes like JSON but keeps non-ASCII characters as they are; UPPER knows them.
            escaped = [json.dumps(term, ensure_ascii=False)[1:-1]]
            lhs_sql = f"({lhs_sql})::text"
        else:
            # SQLite stores Django's json.dumps output, non-ASCII as \\uXXXX escapes that UPPER cannot fold: try the
            # term in lower and in upper case ("zürich" finds "Zürich" and "ZÜRICH").
            escaped = list(dict.fromkeys(json.dumps(t)[1:-1] for t in (term, term.lower(), term.upper())))
        patterns = [f"%{connection.ops.prep_for_like_query(e)}%" for e in escaped]
        sql = " OR ".join(f"UPPER({lhs_sql}) LIKE UPPER(%s) ESCAPE '\\'" for _ in patterns)
        params: list[Any] = []
        for pattern in patterns:
            params += [*lhs_params, pattern]
        return f"({sql})", params
