"""POST /api/v1/notifications/bounces/: bounced e-mails reported back turn their notification "bounced"."""

from __future__ import annotations

import json

import pytest

from authmon import registry
from notifications.models import NotificationLog
from notifications.services import notification_send
from tests.api.conftest import make_client
from tests.samples import sample_record

URL = "/api/v1/notifications/bounces/"


def post(api, payload):
    return api.post(URL, data=json.dumps(payload), content_type="application/json")


@pytest.fixture
def sent(tenant_a, tenant_b):
    kind = registry.get("notifications")
    return {
        "a1": sample_record(kind, tenant_a, "n", status="sent", external_id="msg-1", body="Reset link"),
        "a2": sample_record(kind, tenant_a, "n", status="sent", external_id="msg-2"),
        "b1": sample_record(kind, tenant_b, "n", status="sent", external_id="msg-b"),
    }


def test_bounce_by_external_id_and_by_id(tenant_a, sent):
    api = make_client(tenant_a, ["ingest"])
    response = post(api, [{"external_id": "msg-1", "reason": "550 mailbox full"}, {"id": sent["a2"].pk}])
    assert response.status_code == 200
    assert response.json() == {"bounced": 2, "already_bounced": 0, "not_found": []}
    a1 = NotificationLog.objects.get(pk=sent["a1"].pk)
    assert a1.status == "bounced"
    assert a1.body.startswith("Reset link") and "550 mailbox full" in a1.body
    assert NotificationLog.objects.get(pk=sent["a2"].pk).status == "bounced"
    # reported again: harmless
    assert post(api, [{"external_id": "msg-1"}]).json() == {"bounced": 0, "already_bounced": 1, "not_found": []}


def test_unknown_and_other_tenants_notifications_are_not_found(tenant_a, sent):
    api = make_client(tenant_a, ["ingest"])
    payload = [{"external_id": "nope"}, {"id": sent["b1"].pk}, {"external_id": "msg-b"}, {"external_id": "msg-2"}]
    assert post(api, payload).json() == {"bounced": 1, "already_bounced": 0, "not_found": [0, 1, 2]}
    assert NotificationLog.objects.get(pk=sent["b1"].pk).status == "sent"


@pytest.mark.parametrize(
    "payload,field",
    [
        ([{"id": 1, "external_id": "msg-1"}], None),
        ([{"reason": "no key"}], None),
        ([{"external_id": "msg-1", "why": "x"}], "why"),
        ([{"external_id": "msg-1", "reason": "nul\x00"}], "reason"),
        ([{"id": "1"}], "id"),
        (["msg-1"], None),
        ([{"external_id": ""}], "external_id"),
    ],
)
def test_an_invalid_report_rejects_the_whole_request(tenant_a, sent, payload, field):
    api = make_client(tenant_a, ["ingest"])
    response = post(api, [{"external_id": "msg-2"}, *payload])
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and errors[0]["index"] == 1 and errors[0]["field"] == field
    assert NotificationLog.objects.filter(status="bounced").count() == 0


def test_needs_the_ingest_scope(tenant_a, sent, client):
    assert post(make_client(tenant_a, ["read"]), [{"external_id": "msg-1"}]).status_code == 403
    assert post(client, [{"external_id": "msg-1"}]).status_code == 401
    assert make_client(tenant_a, ["ingest"]).get(URL).status_code == 405
    assert NotificationLog.objects.get(pk=sent["a1"].pk).status == "sent"


def test_bad_bodies_are_400(tenant_a):
    api = make_client(tenant_a, ["ingest"])
    assert api.post(URL, data="{not json", content_type="application/json").status_code == 400
    assert api.post(URL, data="", content_type="application/json").status_code == 400


def test_authmons_own_mail_bounces_by_its_message_id(smtp, tenant_a):
    notification_send(tenant=tenant_a, to=["gone@ext.example"], subject="Export ready", body="b")
    message_id = smtp.messages[0]["Message-ID"]  # what a bounce (DSN) quotes, angle brackets and all
    response = post(make_client(tenant_a, ["ingest"]), {"external_id": message_id, "reason": "5.1.1 user unknown"})
    assert response.json()["bounced"] == 1
    assert NotificationLog.objects.get(subject="Export ready").status == "bounced"
