"""Property-based tests of the pieces that take arbitrary input: the audit diff, CSV neutralisation, the restore
parser and the audit chain's canonical form."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import chain
from audit.diff import compute_diff
from audit.models import AuditLog
from authmon.exports import neutralise
from authmon.models import Tenant
from authmon.restore import RestoreError, archive_read, archive_verify

KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4), max_leaves=20
)
OBJECTS = st.dictionaries(KEYS, JSON, max_size=6)


def apply_diff(old: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    """Rebuild the new entity from the old one and the diff (the notation of DESIGN section 5)."""
    new = dict(old)
    for key, value in diff.items():
        if key.endswith("__added"):
            new[key.removesuffix("__added")] = value
        elif key.endswith("__deleted"):
            del new[key.removesuffix("__deleted")]
        elif isinstance(value, dict) and set(value) == {"_old", "_new"}:
            assert same(new[key], value["_old"])
            new[key] = value["_new"]
        else:
            new[key] = apply_diff(new[key], value)
    return new


def same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) and type(a) is type(b)


@given(OBJECTS, OBJECTS)
@settings(max_examples=300, deadline=None)
def test_diff_rebuilds_the_new_entity(old, new):
    diff = compute_diff(old, new)
    assert json.dumps(apply_diff(old, diff), sort_keys=True) == json.dumps(new, sort_keys=True)


@given(OBJECTS)
@settings(max_examples=200, deadline=None)
def test_no_change_no_diff(entity):
    assert compute_diff(entity, json.loads(json.dumps(entity))) == {}


@given(JSON, JSON)
@settings(max_examples=200, deadline=None)
def test_diff_of_anything_is_json(old, new):
    json.dumps(compute_diff(old, new))  # never raises, whatever the snapshots are


def _reads_as_formula(text: str) -> bool:
    """DESIGN section 8, said plainly: the first character that shows, in its NFKC form, starts a formula."""
    for char in text:
        if unicodedata.normalize("NFKC", char)[0] in "=+-@|\t\r\n":
            return True
        if not (char.isspace() or unicodedata.category(char) in {"Cc", "Cf", "Zs", "Zl", "Zp"}):
            return False
    return False


# Text, and text built from the characters that hide a formula: spaces, line breaks, invisible and full-width forms.
TRICKY = st.text(alphabet=st.sampled_from(" \t\r\n\u00a0\u200b\ufeff\u2060\u3000=+-@|＝＋－＠｜aA1'\""), max_size=8)


@given(st.text(max_size=50) | TRICKY | st.integers() | st.none())
@settings(max_examples=500, deadline=None)
def test_neutralised_cells_are_never_formulas_and_survive_csv(cell):
    out = neutralise(cell)
    original = "" if cell is None else str(cell)
    assert out in (original, "'" + original)
    assert out.startswith("'") or not _reads_as_formula(out)
    if _reads_as_formula(original):
        assert out == "'" + original
    buffer = io.StringIO()
    csv.writer(buffer).writerow([out, "next"])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == [out, "next"]


TENANT = Tenant(slug="acme", name="Acme")


@given(st.binary(max_size=400))
@settings(max_examples=400, deadline=None)
def test_restore_parser_refuses_any_bytes_with_a_reason(raw):
    try:
        data = archive_read(raw)
    except RestoreError as exc:
        assert str(exc)
        return
    with pytest.raises(RestoreError):
        archive_verify(data, tenant=TENANT, kind_name="audit")


ARCHIVES = st.fixed_dictionaries(
    {
        "header": st.dictionaries(st.sampled_from(["format", "version", "kind", "tenant", "count"]), JSON) | JSON,
        "records": st.lists(OBJECTS, max_size=3) | JSON,
        "seal": st.dictionaries(st.sampled_from(["key_id", "records_sha256", "signature"]), JSON) | JSON,
    }
)


@given(ARCHIVES)
@settings(max_examples=300, deadline=None)
def test_restore_verify_refuses_any_forged_structure(data):
    data["header"] = (
        data["header"]
        if not isinstance(data["header"], dict)
        else {**data["header"], "format": "authmon-export", "version": 1, "kind": "audit", "tenant": "acme"}
    )
    with pytest.raises(RestoreError):
        archive_verify(json.loads(json.dumps(data)), tenant=TENANT, kind_name="audit")


@pytest.fixture
def valid_archive(tenant_a):
    from authmon import exports, registry
    from tests.samples import sample_record

    kind = registry.get("audit")
    for n in range(3):
        sample_record(kind, tenant_a, f"prop{n}")
    queryset = AuditLog.objects.for_tenant(tenant_a).order_by("-timestamp", "-pk")
    return "".join(exports.stream_json(kind, queryset, tenant_slug="acme", filters={}, limit=100)).encode()


@given(position=st.integers(min_value=0), byte=st.integers(min_value=0, max_value=255))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_changed_byte_of_an_archive_is_refused_or_harmless(valid_archive, tenant_a, position, byte):
    raw = bytearray(valid_archive)
    index = position % len(raw)
    raw[index] = byte
    try:
        data = archive_verify(archive_read(bytes(raw)), tenant=tenant_a, kind_name="audit")
    except RestoreError:
        return
    # Accepted: then the change did not alter a single value (e.g. whitespace, or the byte was already there).
    original = json.loads(valid_archive)
    assert data[1] == original["records"]


@given(JSON)
@settings(max_examples=300, deadline=None)
def test_canonical_form_survives_a_json_round_trip(value):
    """What the database gives back (JSON text parsed again) hashes like what was written."""
    values = {"tenant": "acme", "new_entity": value}
    again = {"tenant": "acme", "new_entity": json.loads(json.dumps(value))}
    assert chain.canonical(values, AuditLog) == chain.canonical(again, AuditLog)
