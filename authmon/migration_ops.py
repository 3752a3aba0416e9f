"""Migration operations shared by the apps' PostgreSQL-only schema steps (see docs/scaling.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

from authmon.partitions import key_triggers_tune


def trigram_indexes(table: str, indexes: Mapping[str, str]) -> migrations.RunPython:
    """pg_trgm GIN indexes named ``indexes`` keys on ``UPPER(column::text)`` of ``table``; nothing on other databases.

    Django compiles ``icontains`` (quick search, a question's "contains") to ``UPPER(col::text) LIKE UPPER(%s)``, so
    the index must be on that expression to serve it; pg_trgm 1.4+ also answers ``iexact`` and prefix searches.
    """
    indexes = dict(indexes)

    def create(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, column in indexes.items():
            schema_editor.execute(f"CREATE INDEX {name} ON {table} USING gin ((UPPER({column}::text)) gin_trgm_ops)")

    def drop(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for name in indexes:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return migrations.RunPython(create, drop)


def key_trigger_plans(table: str) -> migrations.RunPython:
    """Give ``table``'s existing external_id key-table join triggers their index-probe plans (``partitions``)."""

    def tune(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        key_triggers_tune(schema_editor, table)

    def untune(apps: Any, schema_editor: BaseDatabaseSchemaEditor) -> None:
        key_triggers_tune(schema_editor, table, on=False)

    return migrations.RunPython(tune, untune)
