"""Input never answers 5xx (issue 14, finding 5; DESIGN sections 6 and 6b).

Written as the attack: with DEBUG off, junk in every filter field and list parameter of every kind, on the list page
and its CSV export; the events ``ip_address=`` filter with a non-address or a partial one; a NUL byte in a search,
a question, a filter, a user or client URL, the revoke-all POST and other form fields; and restore archives nested
100,000 levels deep or holding a 5,000-digit integer. Each of these was a 500 on PostgreSQL (or a CSV download that
broke after its 200) before; now each is a 400 or a form error that says what is wrong, and nothing is written.

A NUL in a request header (the user agent a sign-in records) was a 500 too, where the server lets it through.

The API's read filters are walked with the same junk: they already answered 400 ``{"error": "parameter"}`` and stay
so. Run this file against PostgreSQL (the 500s were PostgreSQL's) and SQLite.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import FieldDoesNotExist
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from django.urls import reverse

from audit.models import AuditLog
from authmon import exports, registry
from authmon.exports import neutralise
from authmon.ingest import MAX_JSON_DEPTH
from authmon.models import ApiToken
from authmon.restore import RestoreError, archive_read, archive_restore, archive_verify
from authmon.selectors import RESERVED_PARAMS
from console import runs
from events.models import EventLog
from jobs.models import JobLog
from tests.conftest import PASSWORD
from tests.samples import sample_record

KINDS = [kind.name for kind in registry.kinds()]

# Values no filter of a list can take as they are; some are fine text for a text filter ("contains").
JUNK = [
    "not-an-ip",
    "192.168.1",
    "::1::2",
    "2001:db8::g",
    "10.0.0.1/24",
    "-1",
    "1e999",
    "1" * 5000,
    "true",
    "{}",
    "[",
    "%",
    "2024-13-45",
    "' OR 1=1 --",
    "\u202e\ufeff",
]
NUL_VALUE = "a\x00b"
# List parameters whose junk always earns a visible error: an unknown preset, an impossible date, an unknown sort.
CHECKED_PARAMS = {"preset", "start", "end", "sort"}


@pytest.fixture
def no_debug(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]


@pytest.fixture
def records(tenant_a) -> dict[str, Any]:
    return {kind.name: sample_record(kind, tenant_a, "junk") for kind in registry.kinds()}


@pytest.fixture
def console(no_debug, super_admin, records) -> Client:
    client = Client(raise_request_exception=False)
    assert client.login(username=super_admin.email, password=PASSWORD)
    return client


def _body(response: Any) -> str:
    """The whole body; a streamed download is read to the end, so a stream that breaks midway fails here."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


def _messages(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _must_refuse(kind_name: str, name: str, value: str) -> bool:
    """Whether ``value`` is invalid for this list parameter or filter (so the page must say it was refused)."""
    if name in {"start", "end"} and value.isdigit():
        return False  # all digits is an ISO 8601 date and time in the basic format ("11111111..." is 1111-11-11)
    if name in CHECKED_PARAMS:
        return True
    kind = registry.get(kind_name)
    try:
        field = kind.model._meta.get_field(name)
    except FieldDoesNotExist:  # a filter that is not a model field: judged by its own choices
        return bool(getattr(kind.filterset.base_filters.get(name), "extra", {}).get("choices"))
    return bool(field.choices) or isinstance(field, models.GenericIPAddressField)


def _list_params(kind_name: str) -> list[str]:
    kind = registry.get(kind_name)
    return [*kind.filterset.base_filters, *RESERVED_PARAMS]


# ------------------------------------------------------------------------------------------ every filter, junk


@pytest.mark.parametrize("kind_name", KINDS)
def test_every_list_filter_takes_junk_with_a_visible_error_and_no_server_error(console, kind_name):
    kind = registry.get(kind_name)
    failures = []
    for name in _list_params(kind_name):
        for value in JUNK:
            params = {"preset": "all", name: value} if name != "preset" else {name: value}
            response = console.get(kind.list_url, params)
            body = _body(response)
            if response.status_code >= 500:
                failures.append(f"{name}={value[:20]!r}: {response.status_code}")
            elif _must_refuse(kind_name, name, value) and "alert alert-warning" not in body:
                failures.append(f"{name}={value[:20]!r}: no error shown")
    assert not failures, f"{kind.list_url}: {failures}"


@pytest.mark.parametrize("kind_name", KINDS)
def test_every_export_filter_takes_junk_and_the_file_is_whole_or_refused(console, kind_name):
    """A streamed export checks its parameters before the first byte: a 200 is a whole file, else a message."""
    kind = registry.get(kind_name)
    failures = []
    for name in _list_params(kind_name):
        for value in JUNK:
            params = {"format": "csv", "preset": "all", name: value}
            try:
                response = console.get(kind.export_url, params)
                body = _body(response)
            except Exception as exc:  # the stream broke after its 200 went out
                failures.append(f"{name}={value[:20]!r}: {type(exc).__name__} mid-download")
                continue
            if response.status_code >= 500:
                failures.append(f"{name}={value[:20]!r}: {response.status_code}")
            elif response.status_code == 200 and response.streaming:
                assert body.splitlines()[0], "a CSV export starts with its header row"
                if _must_refuse(kind_name, name, value) and not _messages(response):
                    failures.append(f"{name}={value[:20]!r}: exported without a word")
            elif response.status_code in {200, 302} and not _messages(response):
                failures.append(f"{name}={value[:20]!r}: refused without a word")
    assert not failures, f"{kind.export_url}: {failures}"


# --------------------------------------------------------------------------------------------- IP addresses


@pytest.mark.parametrize(
    "value", ["not-an-ip", "192.168.1", "192.168.1.", "256.1.1.1", "1.2.3.4.5", "::1::2", "2001:db8:::1", "1" * 5000]
)
def test_events_ip_filter_with_a_non_address_is_a_form_error(console, value):
    events = registry.get("events")
    response = console.get(events.list_url, {"preset": "all", "ip_address": value})
    assert response.status_code == 200
    assert "ignored: Enter a whole IPv4 or IPv6 address, such as 203.0.113.7" in _body(response)


def test_events_ip_filter_matches_one_address_however_written(console, tenant_a):
    events = registry.get("events")
    wanted = sample_record(events, tenant_a, "v6", ip_address="2001:db8::1")
    sample_record(events, tenant_a, "other", ip_address="2001:db8::2")
    response = console.get(events.export_url, {"format": "json", "preset": "all", "ip_address": "2001:DB8:0::0001"})
    assert [r["id"] for r in json.loads(_body(response))["records"]] == [wanted.pk]


def test_events_csv_export_with_a_non_address_exports_nothing_and_says_why(console):
    """No 200 that breaks mid-download, and no file quietly holding more than the filter asked for."""
    events = registry.get("events")
    response = console.get(events.export_url, {"format": "csv", "preset": "all", "ip_address": "not-an-ip"})
    assert response.status_code == 302
    assert not hasattr(response, "streaming_content")
    assert any("Enter a whole IPv4 or IPv6 address" in m for m in _messages(response))
    assert not AuditLog.objects.filter(action__startswith="export").exists(), "nothing is exported, nor audited"


# ---------------------------------------------------------------------------------------------------- NUL bytes


@pytest.mark.parametrize("kind_name", KINDS)
@pytest.mark.parametrize("target", ["list", "export"])
@pytest.mark.parametrize("name", ["search", "q", "start", "sort", "filter"])
def test_a_nul_in_any_list_parameter_is_a_400_that_says_so(console, kind_name, target, name):
    kind = registry.get(kind_name)
    if name == "filter":
        name = next(iter(kind.filterset.base_filters))
    url = kind.list_url if target == "list" else kind.export_url
    response = console.get(url, {"format": "csv", "preset": "all", name: NUL_VALUE})
    assert response.status_code == 400
    assert "NUL character" in _body(response)
    assert not AuditLog.objects.filter(action__startswith="export").exists(), "nothing is exported, nor audited"


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/monitoring/users/a%00b/", {}),
        ("GET", "/monitoring/clients/a%00b/", {}),
        ("POST", "/monitoring/users/a%00b/revoke-all/", {"scope": "all"}),
        ("POST", "/monitoring/users/someone@acme.example/revoke-all/", {"scope": "all", "comment": NUL_VALUE}),
        ("POST", "/tenant/switch/", {"tenant": NUL_VALUE, "next": "/"}),
        ("GET", "/monitoring/insights/", {"preset": NUL_VALUE}),
    ],
)
def test_a_nul_in_a_path_or_form_is_a_400_and_changes_nothing(console, tenant_a, method, path, data):
    sessions = registry.get("sessions")
    active = sample_record(sessions, tenant_a, "nul", email="someone@acme.example", status="active")
    audits = AuditLog.objects.count()
    response = console.get(path, data) if method == "GET" else console.post(path, data)
    assert response.status_code == 400
    assert "contains a NUL character" in _body(response)
    assert AuditLog.objects.count() == audits
    active.refresh_from_db()
    assert active.status == "active"


def test_a_nul_in_a_revoke_comment_is_a_400_and_the_session_stays(console, records):
    session = records["sessions"]
    before = session.status
    response = console.post(reverse("sessions:session_revoke", args=[session.pk]), {"comment": NUL_VALUE})
    assert response.status_code == 400
    assert "The form field &#x27;comment&#x27; contains a NUL character" in _body(response)
    session.refresh_from_db()
    assert session.status == before


@pytest.mark.parametrize("password", ["wrong", PASSWORD])
def test_a_nul_in_a_header_is_a_400_before_anything_is_recorded(no_debug, tenant_admin, password):
    """The user agent of a sign-in is stored; gunicorn refuses such a header, a server without that check may not."""
    events = EventLog.objects.count()
    client = Client(raise_request_exception=False, HTTP_USER_AGENT=NUL_VALUE)
    response = client.post(reverse("login"), {"username": tenant_admin.email, "password": password})
    assert response.status_code == 400
    assert "The header &#x27;User-Agent&#x27; contains a NUL character" in _body(response)
    assert EventLog.objects.count() == events


def test_a_nul_reaches_no_view_of_an_anonymous_visitor(no_debug, records):
    response = Client(raise_request_exception=False).get("/monitoring/users/a%00b/")
    assert response.status_code == 302, "sign-in comes first; the NUL is refused once signed in"


@pytest.fixture
def api(no_debug, tenant_a, records) -> Client:
    _, raw = ApiToken.issue(tenant=tenant_a, scopes=["ingest", "read"], name="junk")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", raise_request_exception=False)


@pytest.mark.parametrize(
    "path", ["/api/v1/sessions/by-session-id/a%00b/", "/api/v1/grants/by-grant-id/a%00b/", "/api/v1/events/?q=a%00b"]
)
def test_a_nul_in_an_api_path_or_parameter_is_a_parameter_error(api, path):
    response = api.get(path)
    assert response.status_code == 400
    assert response.json()["error"] == "parameter"
    assert "NUL" in response.json()["message"]


# ------------------------------------------------------------------------------------------------ API filters


@pytest.mark.parametrize("kind_name", KINDS)
def test_every_api_read_filter_takes_junk_as_a_parameter_error(api, kind_name):
    """Held before this change too; kept as the API half of the walk. Text fields take any text (200)."""
    kind = registry.get(kind_name)
    failures = []
    for name in ["id", *(f.name for f in kind.data_fields), "limit", "cursor", "unknown_field"]:
        for value in JUNK:
            response = api.get(f"/api/v1/{kind.name}/", {name: value})
            if response.status_code == 400:
                assert response.json()["error"] in {"parameter", "cursor"}, (name, value)
                assert response.json()["message"]
            elif response.status_code != 200:
                failures.append(f"{name}={value[:20]!r}: {response.status_code}")
    assert not failures, failures


# -------------------------------------------------------------------------------------------------- restore


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _archive_around(records_json: str) -> bytes:
    """An archive that passes every check up to the records' checksum: authmon's format, tenant and key id."""
    header = {
        "format": exports.FORMAT_NAME,
        "version": exports.FORMAT_VERSION,
        "kind": "audit",
        "tenant": "acme",
        "count": 1,
    }
    seal = {"algorithm": "HMAC-SHA256", "key_id": exports.export_keys()[0], "records_sha256": "0", "signature": "0"}
    return f'{{"header": {json.dumps(header)}, "records": {records_json}, "seal": {json.dumps(seal)}}}'.encode()


ABSURD_ARCHIVES = {
    "nested 100,000 deep": (lambda: _archive_around(f"[{_nested(100_000)}]"), "levels deep"),
    "nested 500 deep, parseable": (lambda: _archive_around(f"[{_nested(500)}]"), "levels deep"),
    "a 5,000-digit integer": (lambda: _archive_around("[" + "7" * 5000 + "]"), "more than 4,300 digits"),
    "NaN": (lambda: _archive_around('[{"n": NaN}]'), "not a valid JSON number"),
    "1e999": (lambda: _archive_around('[{"n": 1e999}]'), "out of range"),
    "a lone surrogate": (lambda: _archive_around('[{"actor": "\\ud800"}]'), "not valid Unicode"),
}


@pytest.mark.parametrize("name", list(ABSURD_ARCHIVES))
def test_an_absurd_archive_is_refused_with_a_reason(db, name):
    make, reason = ABSURD_ARCHIVES[name]
    with pytest.raises(RestoreError, match=reason):
        archive_read(make())


@pytest.mark.parametrize("name", list(ABSURD_ARCHIVES))
def test_restoring_an_absurd_archive_writes_nothing(tenant_a, name):
    """``archive_restore``, the service the restore job runs on the stored upload."""
    make, reason = ABSURD_ARCHIVES[name]
    before = AuditLog.objects.count()
    with pytest.raises(RestoreError, match=reason):
        archive_restore(raw=make(), tenant=tenant_a, kind_name="audit")
    assert AuditLog.objects.count() == before


@pytest.mark.parametrize("name", list(ABSURD_ARCHIVES))
def test_a_restore_job_given_an_absurd_archive_fails_with_the_reason(
    tenant_a, super_admin, settings, tmp_path, django_capture_on_commit_callbacks, name
):
    """The job path: an archive that reached the store (the page checks first) fails its job, with the reason."""
    settings.AUTHMON_EXPORT_DIR = tmp_path
    make, reason = ABSURD_ARCHIVES[name]
    raw = make()
    kept = AuditLog.objects.exclude(action="restore AuditLog").count()
    with django_capture_on_commit_callbacks(execute=True):
        job = runs.restore_start(
            kind=registry.get("audit"),
            user=super_admin,
            tenant=tenant_a,
            file_name="absurd.json",
            size=len(raw),
            chunks=[raw],
        )
    job.refresh_from_db()
    assert job.latest_status == "failed"
    assert reason in job.message
    assert AuditLog.objects.exclude(action="restore AuditLog").count() == kept


@pytest.mark.parametrize("name", list(ABSURD_ARCHIVES))
def test_the_restore_page_refuses_an_absurd_archive_and_starts_nothing(no_debug, super_admin, name):
    make, reason = ABSURD_ARCHIVES[name]
    client = Client(raise_request_exception=False)
    assert client.login(username=super_admin.email, password=PASSWORD)
    audits, jobs = AuditLog.objects.count(), JobLog.objects.count()
    upload = SimpleUploadedFile("absurd.json", make(), "application/json")
    response = client.post(reverse("audit:auditlog_restore"), {"archive": upload})
    assert response.status_code == 400
    assert reason in _body(response)
    assert (AuditLog.objects.count(), JobLog.objects.count()) == (audits, jobs)


def test_an_export_as_deep_as_ingest_allows_still_restores(api, tenant_a):
    """The nesting limit leaves room for every record authmon holds: a JSON field as deep as ingest accepts."""

    def ingest(value: Any) -> int:
        record = [{"action": "deep", "new_entity": value}]
        return api.post("/api/v1/audit/", record, content_type="application/json").status_code

    deepest: Any = "bottom"
    for _ in range(MAX_JSON_DEPTH - 3):
        deepest = [deepest]
    while ingest([deepest]) == 201:  # the deepest value ingest stores
        deepest = [deepest]
    audit = registry.get("audit")
    queryset = AuditLog.objects.for_tenant(tenant_a).order_by("-timestamp", "-pk")
    raw = "".join(exports.stream_json(audit, queryset, tenant_slug="acme", filters={}, limit=1000)).encode()
    _, records = archive_verify(archive_read(raw), tenant=tenant_a, kind_name="audit")
    assert any(record["new_entity"] == deepest for record in records)


# ------------------------------------------------------------------------------------------ CSV neutralisation

FORMULA = '=HYPERLINK("http://evil.example","x")'
CSV_BYPASSES = {
    "leading spaces": "   " + FORMULA,
    "line feed": "\n" + FORMULA,
    "line feed alone": "\n-2+3",
    "carriage return after a space": " \r" + FORMULA,
    "tab after a space": " \t" + FORMULA,
    "full-width equals": "＝1+1",
    "full-width plus": "＋1+1",
    "full-width minus": "－1+1",
    "full-width at": "＠SUM(A1)",
    "full-width equals after a space": " ＝1+1",
    "small form equals": "﹦1+1",
    "zero-width space": "\u200b" + FORMULA,
    "byte order mark": "\ufeff" + FORMULA,
    "no-break space": "\u00a0" + FORMULA,
    "ideographic space": "\u3000@SUM(A1)",
    "word joiner and bidi mark": "\u2060\u200f+1+1",
    "hangul filler": "\u3164" + FORMULA,
    "pipe (DDE)": "|calc!A0",
    "full-width pipe": "｜calc!A0",
    "invisible then full-width": "\u200b\u00a0＋1",
}
STILL_CAUGHT = {"equals": FORMULA, "plus": "+1", "minus": "-1", "at": "@SUM(A1)", "tab": "\t=1", "cr": "\r=1"}
PLAIN = ["alice@acme.example", "2026-01-02T03:04:05Z", "203.0.113.7", "a=b", "", "login_failed", "Ünïcode", "１２３"]


@pytest.mark.parametrize("cell", list(CSV_BYPASSES.values()), ids=list(CSV_BYPASSES))
def test_csv_neutralises_formulas_hidden_behind_spaces_invisibles_and_full_width_forms(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", list(STILL_CAUGHT.values()), ids=list(STILL_CAUGHT))
def test_csv_still_neutralises_plain_formulas(cell):
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", PLAIN)
def test_csv_leaves_ordinary_text_alone(cell):
    assert neutralise(cell) == cell
    assert neutralise(None) == ""


def test_a_csv_export_neutralises_every_bypass(console, tenant_a):
    events = registry.get("events")
    for cell in CSV_BYPASSES.values():
        sample_record(events, tenant_a, "csv", username=cell)
    response = console.get(events.export_url, {"format": "csv", "preset": "all"})
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    cells = [row["Username"] for row in rows if row["Username"] and not row["Username"].startswith("junk")]
    assert len(cells) == len(CSV_BYPASSES)
    assert all(cell.startswith("'") for cell in cells), [c for c in cells if not c.startswith("'")]
