"""SQL building blocks the detections need and Django does not ship."""

from __future__ import annotations

from typing import Any

from django.db import models


class EpochBucket(models.Func):
    """``floor(epoch seconds / size)``: the number of the fixed-size time bucket a timestamp falls in.

    Django's ``Trunc*`` functions only know calendar units; a detection window is any number of minutes.
    """

    output_field = models.BigIntegerField()

    def __init__(self, expression: Any, seconds: int, **extra: Any) -> None:
        if seconds < 1:
            raise ValueError("A bucket is at least one second long.")
        super().__init__(expression, models.Value(int(seconds)), **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / %(size)s)::bigint", **extra
        )

    def as_sql(self, compiler: Any, connection: Any, template: str | None = None, **extra: Any) -> Any:
        moment, size = self.source_expressions
        moment_sql, moment_params = compiler.compile(moment)
        size_sql, size_params = compiler.compile(size)
        if template is None:
            # SQLite keeps datetimes as ISO text in UTC; julianday reads it without a format string (no '%' to
            # collide with the driver's placeholders).
            template = "CAST((julianday(%(expressions)s) - 2440587.5) * 86400.0 / %(size)s AS INTEGER)"
        sql = template % {"expressions": moment_sql, "size": size_sql}
        return sql, (*moment_params, *size_params)
