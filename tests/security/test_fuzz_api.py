"""Bad input, systematically: schema-driven fuzzing of the HTTP API (schemathesis against /api/v1/openapi.json,
run in-process through the WSGI application) plus a catalogue of hostile bodies sent to every ingest endpoint.

Every answer is checked against the OpenAPI document (``call_and_validate``), not only for a 5xx. The corpus grows:
``fuzz_corpus.json`` (tracked) holds the inputs found or worth keeping and is replayed on every run; the random
examples are new on every run (a failure prints the seed that reproduces it), and Hypothesis keeps the failing and
interesting ones it meets in ``data/hypothesis/`` (untracked) to try first next time on the same machine.

Each test counts what it tried and prints the figures: inputs tried, 5xx answers (must be 0) and records lost (rows
the API said it created that are not in the database, or rows stored from a refused batch; must be 0).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from schemathesis.checks import positive_data_acceptance
from schemathesis.generation import GenerationMode

from authmon import registry
from authmon.models import ApiToken

# Every check of the response against the OpenAPI document runs (status code documented, content type, body and
# headers conform, no 5xx, schema-invalid input refused) except one: "a schema-valid request is accepted". A question
# (``q``) is any string to the schema, and most strings are not questions; an exact filter's value is a string to the
# schema and may not be an IP address. Those are refused with a documented 400 ({"error": "query" | "param"}).
EXCLUDED_CHECKS = [positive_data_acceptance]
EXAMPLES = 250  # per generation mode: bounded, so the whole file runs well under two minutes
CORPUS = Path(__file__).with_name("fuzz_corpus.json")
EXAMPLE_DB = DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[2] / "data" / "hypothesis")


@dataclass
class Tally:
    inputs: int = 0
    server_errors: list[str] = field(default_factory=list)
    created: int = 0  # what 201 answers said they stored

    def report(self, what: str, lost: int) -> str:
        return (
            f"{what}: {self.inputs} inputs tried, {len(self.server_errors)} 5xx, {self.created} records stored, "
            f"{lost} records lost"
        )


def _rows() -> int:
    return sum(kind.model.objects.count() for kind in registry.kinds())


@pytest.fixture
def api_schema(settings):
    settings.ALLOWED_HOSTS = ["*"]
    settings.AUTHMON_API_RATE_LIMIT = 0  # the fuzzer would otherwise mostly meet 429s
    # Requests through the WSGI handler would close the test transaction's connection between requests; Django's
    # own test client switches that off the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schema_driven_fuzzing_never_answers_5xx_and_loses_nothing(db, tenant_a, api_schema, mode):
    _, raw = ApiToken.issue(tenant=tenant_a, scopes=["ingest", "read"], name="fuzz")
    auth = {"Authorization": f"Bearer {raw}"}
    tally = Tally()
    before = _rows()

    @given(case=api_schema.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=EXAMPLE_DB,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        _call(case, auth, tally)

    run()
    lost = tally.created - (_rows() - before)
    print(tally.report(f"schemathesis {mode.value}", lost))
    assert not tally.server_errors, tally.server_errors[:10]
    assert lost == 0
    assert tally.inputs >= EXAMPLES // 2


def _call(case: Any, auth: dict[str, str], tally: Tally) -> None:
    """Send ``case``, check the answer against the schema (raises on any violation) and count what it stored."""
    response = case.call_and_validate(headers=auth, excluded_checks=EXCLUDED_CHECKS)
    tally.inputs += 1
    if response.status_code >= 500:
        tally.server_errors.append(f"{case.method} {case.formatted_path} -> {response.status_code}")
    if response.status_code == 201 and case.method == "POST":
        body = json.loads(response.content or b"{}")
        tally.created += int(body.get("created", 0))
        # a batch that kept revoked rows revoked also stores its one audit record (DESIGN section 6)
        tally.created += 1 if body.get("kept_revoked") else 0


def test_the_stored_corpus_passes_the_same_checks(db, tenant_a, api_schema):
    """Every input found or kept (fuzz_corpus.json), replayed through the schema checks; nothing lost."""
    _, raw = ApiToken.issue(tenant=tenant_a, scopes=["ingest", "read"], name="fuzz")
    auth = {"Authorization": f"Bearer {raw}"}
    cases = json.loads(CORPUS.read_text(encoding="utf-8"))["cases"]
    tally = Tally()
    before = _rows()
    for entry in cases:
        operation = api_schema[entry["path"]][entry["method"]]
        extra = {"body": entry["body"], "media_type": "application/json"} if "body" in entry else {}
        case = operation.Case(query=entry.get("query"), path_parameters=entry.get("path_parameters"), **extra)
        try:
            _call(case, auth, tally)
        except Exception as exc:
            raise AssertionError(f"corpus entry '{entry['why']}' failed") from exc
    lost = tally.created - (_rows() - before)
    print(tally.report("stored corpus", lost))
    assert tally.inputs == len(cases) >= 20
    assert not tally.server_errors
    assert lost == 0


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _hostile_bodies(kind: str) -> list[tuple[str, bytes | str, str]]:
    """(what, body, content type): every one must be refused with a 4xx and store nothing."""
    deep = {"a": None}
    for _ in range(150):
        deep = {"a": deep}
    return [
        ("deeply nested array", _nested(100_000), "application/json"),
        ("deeply nested object in a record", json.dumps([{"details": deep, "old_entity": deep}]), "application/json"),
        ("huge number", "[" + "9" * 5000 + "]", "application/json"),
        ("huge float", '[{"details": {"x": 1e999}}]', "application/json"),
        ("NaN", '[{"details": {"x": NaN}}]', "application/json"),
        ("invalid UTF-8", b'[{"external_id": "\xff\xfe\xfd"}]', "application/json"),
        ("lone surrogate", '[{"external_id": "\\ud800"}]', "application/json"),
        ("NUL in text", '[{"external_id": "a\\u0000b"}]', "application/json"),
        ("NUL in a key", '[{"ext\\u0000": 1}]', "application/json"),
        ("10 MiB string", json.dumps([{"external_id": "x" * (10 * 1024 * 1024)}]), "application/json"),
        ("wrong content type", "<xml/>", "application/xml"),
        ("form body", "a=1&b=2", "application/x-www-form-urlencoded"),
        ("NDJSON garbage", "{}\n{\n", "application/x-ndjson"),
        (
            "JSON bomb (repeated keys)",
            "[{" + ",".join(f'"k{i}": [[[[[]]]]]' for i in range(20000)) + "}]",
            "application/json",
        ),
        ("too many records", json.dumps([{}] * 10_001), "application/json"),
        ("not a list", '"just a string"', "application/json"),
        ("empty body", "", "application/json"),
        ("BOM only", "\ufeff", "application/json"),
        ("record is a number", "[1, 2, 3]", "application/json"),
        ("unknown field", json.dumps([{"tenant": "globex"}]), "application/json"),
        ("computed field", json.dumps([{"diff": {"x": 1}, "id": 5}]), "application/json"),
        (
            "bad date",
            json.dumps([{"timestamp": "9999-99-99", "created_on": "yesterday", "created_at": 5}]),
            "application/json",
        ),
    ]


def test_hostile_bodies_are_refused_at_every_ingest_endpoint(db, tenant_a, client, settings):
    settings.AUTHMON_API_RATE_LIMIT = 0
    _, raw = ApiToken.issue(tenant=tenant_a, scopes=["ingest"], name="fuzz")
    tally = Tally()
    before = _rows()
    for kind in registry.kinds():
        for what, body, content_type in _hostile_bodies(kind.name):
            response = client.post(
                f"/api/v1/{kind.name}/", data=body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {raw}"
            )
            tally.inputs += 1
            if response.status_code >= 500 or response.status_code < 400:
                tally.server_errors.append(f"{kind.name}: {what} -> {response.status_code}")
    lost = _rows() - before  # every batch was refused, so anything stored would be a half-applied batch
    print(tally.report("hostile bodies", lost))
    assert not tally.server_errors, tally.server_errors
    assert lost == 0


def test_random_bytes_never_break_ingest_and_lose_nothing(db, tenant_a, client, settings):
    settings.AUTHMON_API_RATE_LIMIT = 0
    _, raw = ApiToken.issue(tenant=tenant_a, scopes=["ingest"], name="fuzz")
    tally = Tally()
    before = _rows()

    @given(body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
    @hypothesis_settings(max_examples=200, deadline=None, database=EXAMPLE_DB, suppress_health_check=list(HealthCheck))
    def run(body):
        response = client.post(
            "/api/v1/events/", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        tally.inputs += 1
        if response.status_code >= 500:
            tally.server_errors.append(f"{body[:40]!r} -> {response.status_code}")
        if response.status_code == 201:
            tally.created += int(response.json().get("created", 0))

    run()
    lost = tally.created - (_rows() - before)
    print(tally.report("random bytes", lost))
    assert not tally.server_errors, tally.server_errors[:10]
    assert lost == 0
    assert tally.inputs >= 100
