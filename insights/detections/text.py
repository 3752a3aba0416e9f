"""The small pieces of wording that finding titles and summaries share: a time in the tenant's zone, the most
frequent values of a counter, a list cut short with "and N more".

Kept in one place so that every detection words the same things the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any


def top_text(counter: Counter, noun: str, limit: int = 3) -> str:
    """How many values ``counter`` holds, naming the ``limit`` most frequent: ``2 IP addresses (a, b)``."""
    if not counter:
        return f"no {noun}"
    names = ", ".join(str(value) for value, _ in counter.most_common(limit))
    more = len(counter) - limit
    plural = noun if len(counter) == 1 else noun + "es" if noun.endswith("ss") else noun + "s"
    return f"{len(counter)} {plural} ({names}{f' and {more} more' if more > 0 else ''})"


def time_text(moment: dt.datetime, tz: Any) -> str:
    """``moment`` to the minute in the tenant's zone ``tz``."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def more_text(values: list[str], limit: int) -> str:
    """The first ``limit`` of ``values``, then how many were left out."""
    text = ", ".join(values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")
