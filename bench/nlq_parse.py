"""Parse-time benchmark of the NLQ package (issue 4: every test question under 20 ms, any 1,000-character input
under 200 ms).

Run from the repository root: ``.venv/bin/python bench/nlq_parse.py [--repeat N]``. It needs no database and no
settings. It times ``nlq.interpret`` (lex, parse, build, compile, render) on every question of the table-driven
tests and of the help panels, then on adversarial inputs of the maximum length, and prints the slowest of each.
Exit status 1 when a budget is exceeded.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from nlq import MAX_LENGTH, NLQError, interpret
from tests.nlq.conftest import MAPS
from tests.nlq.test_questions import TABLE

NOW = datetime(2026, 11, 26, 14, 30, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
QUESTION_BUDGET = 0.020
LONG_BUDGET = 0.200


def timed(kind: str, text: str, repeat: int) -> float:
    """Best of ``repeat`` runs, in seconds (errors count: they are answers too)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        with contextlib.suppress(NLQError):
            interpret(text, MAPS[kind], now=NOW, tz=TZ)
        best = min(best, time.perf_counter() - start)
    return best


def long_inputs(seed: int = 4) -> list[str]:
    rng = random.Random(seed)
    words = [
        "event",
        "type",
        "is",
        "login",
        "and",
        "or",
        "not",
        "last",
        "week",
        "in",
        "the",
        "7",
        "days",
        "ago",
        "client",
        "auth",
        "ui",
        "(",
        ")",
        "between",
        "Nov",
        "3",
        "since",
        "user@example.com",
        "10.0.0.4",
        "failed",
        "logins",
        "modified",
        "provider",
        "one",
        "of",
        ",",
        "'x'",
        "like",
        "*",
    ]

    def fill(parts: list[str]) -> str:
        return " ".join(parts)[:MAX_LENGTH]

    return [
        "a" * MAX_LENGTH,
        "(" * 500 + ")" * 500,
        ("not " * 250)[:MAX_LENGTH],
        fill(["client is"] + ["auth"] * 400),  # one long bare value
        fill(["message contains"] + ["last chance week"] * 100),  # near-miss time phrases inside a value
        fill(["client is auth ui and"] * 60),
        fill(["event type is one of ("] + ["login,"] * 150 + [")"]),
        fill(["failed logins from 10.0.0.4 yesterday"] * 30),
        fill(["modified the google provider"] * 40),
        fill(["between Nov 1 and Nov 3"] * 45),
        fill(["in the last 7 days"] * 60),
        fill(["evnt type is login"] * 60),
        "".join(rng.choice(string.printable) for _ in range(MAX_LENGTH)),
        *(fill([rng.choice(words) for _ in range(400)]) for _ in range(20)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    questions = [(kind, q) for kind, q, _ in TABLE] + [(k, e) for k, fm in MAPS.items() for e in fm.examples]
    for kind, q in questions[:10]:  # warm up imports and caches
        timed(kind, q, 1)
    times = sorted(((timed(kind, q, args.repeat), kind, q) for kind, q in questions), reverse=True)
    print(
        f"{len(times)} questions: median {statistics.median(t for t, _, _ in times) * 1000:.2f} ms, "
        f"slowest {times[0][0] * 1000:.2f} ms"
    )
    for seconds, kind, q in times[:5]:
        print(f"  {seconds * 1000:6.2f} ms  [{kind}] {q}")

    long_times = sorted(
        ((timed(kind, text, args.repeat), kind, text) for text in long_inputs() for kind in MAPS), reverse=True
    )
    print(f"{len(long_times)} inputs of up to {MAX_LENGTH} characters: slowest {long_times[0][0] * 1000:.2f} ms")
    for seconds, kind, text in long_times[:5]:
        print(f"  {seconds * 1000:6.2f} ms  [{kind}] {text[:60]!r}...")

    ok = times[0][0] < QUESTION_BUDGET and long_times[0][0] < LONG_BUDGET
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
