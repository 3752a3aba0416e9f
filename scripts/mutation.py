"""The mutation check (issue 21): mutate the most critical code, run the tests that cover it, fail on too many
survivors.

mutmut (configured in pyproject.toml, ``[tool.mutmut]``) copies the code to ``mutants/``, makes every small change
it can to the functions below (a ``<`` for a ``<=``, ``True`` for ``False``, a dropped argument...), and runs the
tests that reach each changed function. A change no test notices "survives": either a test is missing, or the
change makes no difference (an equivalent mutant). Each module has a survival budget, the survivors it may have, so
a new survivor fails the run until a test kills it or the budget is raised with a reason. The role table's budget is
measured: of its 35 mutants the two that survive swap getattr's default False for None, which ``not`` reads the same
(equivalent). The other budgets are first bounds from a partial run on a busy machine, to be set to measured values
(README, "Mutation check").

Usage: ``make mutation`` (from the repository root; SQLite, Redis optional).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# module -> (mutmut name globs of its critical functions, survivors allowed)
CRITICAL: dict[str, tuple[list[str], int]] = {
    # the role table: who may do what
    "authmon.permissions": (["authmon.permissions.*"], 2),
    # the tenancy door: which tenant a request, a job and the database session act for
    "authmon.tenancy": (["authmon.tenancy.*"], 30),
    # the query language's compiler: a question's conditions as a database filter
    "nlq.compiler": (["nlq.compiler.*"], 40),
    # the audit chain's hash: what a record's link in the chain is made of, and appending to it
    "audit.chain": (
        [
            "audit.chain.x_record_hash*",
            "audit.chain.x_canonical*",
            "audit.chain.x__canonical_texts*",
            "audit.chain.x_field_text*",
            "audit.chain.x_chain_append*",
        ],
        30,
    ),
    # export provenance: a job authmon runs is one it created, found by its own key
    "jobs.runner": (["jobs.runner.x_job_for_task*", "jobs.runner.x_job_create*"], 15),
}
LOG = Path("mutants/run.log")
LINE = re.compile(r"^\s*(?P<name>[\w.ǁ]+__mutmut_\d+): (?P<status>.+?)\s*$")
# mutmut's statuses that mean "no test noticed the change"
SURVIVED = {"survived", "no tests"}


@dataclass
class Tally:
    counts: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def survivors(self) -> int:
        return sum(n for status, n in self.counts.items() if status in SURVIVED)

    @property
    def score(self) -> float:
        return 100.0 * (self.total - self.survivors) / self.total if self.total else 100.0


def module_of(name: str) -> str | None:
    return next((module for module in CRITICAL if name.startswith(module + ".")), None)


def results() -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    return {m["name"]: m["status"] for m in map(LINE.match, out.splitlines()) if m}


def main() -> int:
    env = {**os.environ, "CI": ""}  # mutants make tests fail on purpose; the CI skip gate has no say here
    globs = [glob for patterns, _ in CRITICAL.values() for glob in patterns]
    LOG.parent.mkdir(exist_ok=True)
    with LOG.open("w", encoding="utf-8") as log:
        run = subprocess.run([sys.executable, "-m", "mutmut", "run", *globs], env=env, stdout=log, stderr=log)  # noqa: S603
    if run.returncode:
        print(f"mutmut could not run the check; its output is in {LOG}", file=sys.stderr)
        return run.returncode
    tallies = {module: Tally(Counter()) for module in CRITICAL}
    survivors: dict[str, list[str]] = {module: [] for module in CRITICAL}
    for name, status in results().items():
        module = module_of(name)
        if module is None or not any(re_glob(g).match(name) for g in CRITICAL[module][0]):
            continue
        tallies[module].counts[status] += 1
        if status in SURVIVED:
            survivors[module].append(name)
    failed = False
    print(f"{'module':24} {'mutants':>8} {'killed':>8} {'survived':>9} {'budget':>7} {'score':>7}")
    for module, tally in tallies.items():
        budget = CRITICAL[module][1]
        over = tally.survivors > budget or tally.total == 0
        failed |= over
        killed = tally.total - tally.survivors
        print(
            f"{module:24} {tally.total:8} {killed:8} {tally.survivors:9} {budget:7} {tally.score:6.1f}%"
            + ("  OVER BUDGET" if over else "")
        )
    for module, names in survivors.items():
        if names and tallies[module].survivors > CRITICAL[module][1]:
            print(f"\n{module}: survivors (see each with `.venv/bin/mutmut show NAME`)")
            print("\n".join(f"  {name}" for name in sorted(names)))
    return 1 if failed else 0


def re_glob(glob: str) -> re.Pattern[str]:
    """fnmatch's ``*`` as mutmut reads its globs (it spans dots)."""
    return re.compile(".*".join(map(re.escape, glob.split("*"))) + r"\Z")


if __name__ == "__main__":
    sys.exit(main())
