"""Each detection with data that should trigger it and data that should not (issue 10)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from events.models import EventLog
from insights import detections
from insights.models import Detection
from insights.services import detection_settings_update, findings_evaluate
from insights.sql import EpochBucket
from tests.insights.helpers import NOW, at, audit, event, evidence_rows, job, mail, run, session

pytestmark = pytest.mark.django_db


def failures(tenant, count, *, start, step_seconds=20, email="victim@example.com", ip="203.0.113.9", **fields):
    for n in range(count):
        event(
            tenant,
            "login_failed",
            start + dt.timedelta(seconds=step_seconds * n),
            email=email,
            ip_address=ip,
            **fields,
        )


# ---------------------------------------------------------------------------------------------------- framework


def test_every_detection_choice_is_registered_with_valid_defaults():
    assert [spec.name for spec in detections.detections()] == Detection.values
    for spec in detections.detections():
        assert spec.params, spec.name
        assert spec.thresholds() == spec.defaults
        for param in spec.params:
            assert param.clean(param.default) == param.default
        assert spec.kind in {"events", "audit", "jobs", "notifications", "sessions", "grants"}


def test_thresholds_ignore_invalid_overrides():
    spec = detections.get(Detection.BRUTE_FORCE)
    assert spec.thresholds({"failures": 0, "window_minutes": "15", "unknown": 3}) == {
        "failures": 10,
        "window_minutes": 15,
    }


def test_epoch_bucket_matches_python(tenant_a):
    moment = dt.datetime(2026, 3, 10, 11, 59, 59, tzinfo=dt.UTC)
    event(tenant_a, "login", moment)
    bucket = EventLog.objects.annotate(b=EpochBucket("created_on", 600)).values_list("b", flat=True).get()
    assert bucket == int(moment.timestamp()) // 600, connection.vendor


# ---------------------------------------------------------------------------------------------------- brute force


def test_brute_force_triggers_on_many_failures_for_one_account(tenant_a, tenant_admin):
    failures(tenant_a, 12, start=at(60))
    failures(tenant_a, 2, start=at(days=3), email="other@example.com")
    [finding] = run(tenant_a, Detection.BRUTE_FORCE)
    assert finding.key == {"email": "victim@example.com"}
    assert finding.count == 12
    assert finding.first_seen == at(60)
    assert "203.0.113.9" in finding.summary
    assert evidence_rows(finding, tenant_admin) == 12


def test_brute_force_ignores_too_few_or_too_slow_failures(tenant_a):
    failures(tenant_a, 9, start=at(60))
    failures(tenant_a, 10, start=at(days=2), step_seconds=15 * 60, email="slow@example.com")
    assert run(tenant_a, Detection.BRUTE_FORCE) == []


def test_brute_force_finds_a_burst_split_across_time_buckets(tenant_a):
    boundary = dt.datetime.fromtimestamp(int(at(hours=5).timestamp()) // 600 * 600, tz=dt.UTC)
    failures(tenant_a, 10, start=boundary - dt.timedelta(seconds=100), step_seconds=20)
    [finding] = run(tenant_a, Detection.BRUTE_FORCE)
    assert finding.count == 10


def test_brute_force_stays_in_its_tenant(tenant_a, tenant_b):
    failures(tenant_b, 15, start=at(60))
    assert run(tenant_a, Detection.BRUTE_FORCE) == []
    assert len(run(tenant_b, Detection.BRUTE_FORCE)) == 1


def test_brute_force_threshold_is_tunable_per_tenant(tenant_a, tenant_b):
    failures(tenant_a, 6, start=at(60))
    failures(tenant_b, 6, start=at(60))
    detection_settings_update(
        tenant=tenant_a,
        actor="admin@example.com",
        detection=Detection.BRUTE_FORCE,
        enabled=True,
        thresholds={"failures": 5},
    )

    def found(tenant):
        [result] = findings_evaluate(tenant=tenant, start=at(days=1), end=NOW, only=[Detection.BRUTE_FORCE])
        return result.findings

    assert len(found(tenant_a)) == 1
    assert found(tenant_b) == []


# ---------------------------------------------------------------------------------------------------- distributed


def test_distributed_attack_triggers_on_one_ip_against_several_accounts(tenant_a, tenant_admin):
    for n in range(20):
        event(
            tenant_a,
            "login_failed",
            at(30) + dt.timedelta(seconds=60 * n),
            email=f"u{n % 4}@example.com",
            ip_address="192.0.2.50",
        )
    [finding] = run(tenant_a, Detection.DISTRIBUTED_ATTACK)
    assert finding.key == {"ip_address": "192.0.2.50"}
    assert finding.facts["accounts"] == 4
    assert evidence_rows(finding, tenant_admin) == 20


def test_distributed_attack_ignores_one_account_or_too_few_failures(tenant_a):
    failures(tenant_a, 25, start=at(60), ip="192.0.2.51")  # brute force on one account, not spread
    for n in range(19):
        event(
            tenant_a,
            "login_failed",
            at(200) + dt.timedelta(seconds=60 * n),
            email=f"u{n % 5}@example.com",
            ip_address="192.0.2.52",
        )
    assert run(tenant_a, Detection.DISTRIBUTED_ATTACK) == []


# ---------------------------------------------------------------------------------------------------- stuffing


def test_credential_stuffing_from_one_ip(tenant_a, tenant_admin):
    for n in range(22):
        event(
            tenant_a,
            "login_failed",
            at(40) + dt.timedelta(seconds=60 * n),
            email=f"leaked{n}@example.com",
            ip_address="203.0.113.66",
        )
    [finding] = run(tenant_a, Detection.CREDENTIAL_STUFFING)
    assert finding.key == {"ip_address": "203.0.113.66"}
    assert finding.facts["accounts"] == 22
    assert evidence_rows(finding, tenant_admin) == 22


def test_credential_stuffing_from_many_ips_with_one_user_agent(tenant_a):
    for n in range(20):
        event(
            tenant_a,
            "login_failed",
            at(40) + dt.timedelta(seconds=30 * n),
            email=f"leaked{n}@example.com",
            ip_address=f"198.18.0.{n + 1}",
            user_agent="python-requests/2.31.0",
        )
    [finding] = run(tenant_a, Detection.CREDENTIAL_STUFFING)
    assert finding.key == {"user_agent": "python-requests/2.31.0"}
    assert "20 IP addresses" in finding.summary


def test_credential_stuffing_ignores_few_accounts_or_a_slow_spread(tenant_a):
    for n in range(19):
        event(
            tenant_a,
            "login_failed",
            at(40) + dt.timedelta(seconds=60 * n),
            email=f"a{n}@example.com",
            ip_address="203.0.113.1",
            user_agent=f"agent {n}",
        )
    for n in range(25):
        event(
            tenant_a,
            "login_failed",
            at(days=2) + dt.timedelta(minutes=15 * n),
            email=f"b{n}@example.com",
            ip_address="203.0.113.2",
            user_agent=f"agent {n}",
        )
    assert run(tenant_a, Detection.CREDENTIAL_STUFFING) == []


# ---------------------------------------------------------------------------------------------------- success after


def test_success_after_failures(tenant_a, tenant_admin):
    failures(tenant_a, 5, start=at(30))
    event(tenant_a, "login", at(25), ip_address="203.0.113.9")
    [finding] = run(tenant_a, Detection.SUCCESS_AFTER_FAILURES)
    assert finding.key == {"email": "victim@example.com"}
    assert finding.count == 6
    assert evidence_rows(finding, tenant_admin) == 6


def test_success_after_too_few_failures_or_much_later_is_quiet(tenant_a):
    failures(tenant_a, 4, start=at(30))
    event(tenant_a, "login", at(25))
    failures(tenant_a, 6, start=at(hours=10), email="later@example.com")
    event(tenant_a, "login", at(hours=8), email="later@example.com")
    failures(tenant_a, 6, start=at(hours=20), email="never@example.com")
    assert run(tenant_a, Detection.SUCCESS_AFTER_FAILURES) == []


# ------------------------------------------------------------------------------------------------ new IP after reset


def _history(tenant, email="victim@example.com"):
    for days in (20, 10, 5):
        event(
            tenant,
            "login",
            at(days=days),
            email=email,
            ip_address="198.51.100.7",
            user_agent="Mozilla/5.0 Firefox/125.0",
        )


def test_login_from_new_ip_right_after_password_reset(tenant_a):
    _history(tenant_a)
    event(tenant_a, "password_reset", at(30))
    event(tenant_a, "login", at(20), ip_address="203.0.113.200")
    [finding] = run(tenant_a, Detection.NEW_IP_AFTER_RESET, start=at(days=1))
    assert finding.key == {"email": "victim@example.com"}
    assert finding.facts["new_ips"] == ["203.0.113.200"]
    assert finding.facts["new_agents"] == []


def test_login_from_new_user_agent_after_reset(tenant_a):
    _history(tenant_a)
    event(tenant_a, "password_reset", at(30))
    event(tenant_a, "login", at(20), user_agent="curl/8.5.0")
    [finding] = run(tenant_a, Detection.NEW_IP_AFTER_RESET, start=at(days=1))
    assert finding.facts["new_agents"] == ["curl/8.5.0"]


def test_known_device_after_reset_or_new_ip_without_reset_is_quiet(tenant_a):
    _history(tenant_a)
    event(tenant_a, "password_reset", at(30))
    event(tenant_a, "login", at(20))  # same IP and browser as always
    _history(tenant_a, "noreset@example.com")
    event(tenant_a, "login", at(20), email="noreset@example.com", ip_address="203.0.113.201")
    event(tenant_a, "password_reset", at(30), email="newcomer@example.com")  # no history to compare with
    event(tenant_a, "login", at(20), email="newcomer@example.com", ip_address="203.0.113.202")
    event(tenant_a, "password_reset", at(hours=5), email="late@example.com")
    _history(tenant_a, "late@example.com")
    event(tenant_a, "login", at(hours=2), email="late@example.com", ip_address="203.0.113.203")  # 3 hours later
    assert run(tenant_a, Detection.NEW_IP_AFTER_RESET, start=at(days=1)) == []


# ---------------------------------------------------------------------------------------------------- sessions


def test_concurrent_sessions_from_different_ips(tenant_a, tenant_admin):
    session(tenant_a, at(60), "198.51.100.7")
    session(tenant_a, at(45), "203.0.113.99")
    [finding] = run(tenant_a, Detection.CONCURRENT_SESSIONS)
    assert finding.key == {"email": "victim@example.com"}
    assert set(finding.facts["ips"]) == {"198.51.100.7", "203.0.113.99"}
    assert evidence_rows(finding, tenant_admin) == 2


def test_sequential_or_same_ip_sessions_are_quiet(tenant_a):
    session(tenant_a, at(60), "198.51.100.7")
    session(tenant_a, at(50), "198.51.100.7")  # same place
    session(tenant_a, at(hours=5), "198.51.100.8", email="b@example.com", revoked=at(hours=5) + dt.timedelta(minutes=5))
    session(tenant_a, at(hours=5) - dt.timedelta(minutes=-10), "203.0.113.5", email="b@example.com")  # first ended
    session(tenant_a, at(hours=10), "198.51.100.9", email="c@example.com")
    session(tenant_a, at(hours=8), "203.0.113.6", email="c@example.com")  # two hours apart
    session(tenant_a, at(hours=3), None, email="d@example.com")
    session(tenant_a, at(hours=3) + dt.timedelta(minutes=5), "203.0.113.7", email="d@example.com")  # no IP known
    assert run(tenant_a, Detection.CONCURRENT_SESSIONS) == []


# ---------------------------------------------------------------------------------------------------- MFA


def test_mfa_failure_then_login_without_mfa(tenant_a, tenant_admin):
    event(tenant_a, "mfa_failed", at(10))
    event(tenant_a, "mfa_failed", at(9))
    event(tenant_a, "login", at(8))
    [finding] = run(tenant_a, Detection.MFA_BYPASS)
    assert finding.key == {"email": "victim@example.com"}
    assert evidence_rows(finding, tenant_admin) == 3


def test_mfa_failure_then_verified_login_is_quiet(tenant_a):
    event(tenant_a, "mfa_failed", at(10))
    event(tenant_a, "mfa_verified", at(9))
    event(tenant_a, "login", at(9))
    event(tenant_a, "login", at(5), email="nomfa@example.com")  # never failed MFA
    event(tenant_a, "mfa_failed", at(hours=3), email="old@example.com")
    event(tenant_a, "login", at(hours=1), email="old@example.com")  # long after
    assert run(tenant_a, Detection.MFA_BYPASS) == []


# ---------------------------------------------------------------------------------------------------- audit


def test_bulk_deletion_by_one_actor(tenant_a, tenant_admin):
    for n in range(12):
        audit(tenant_a, "delete User" if n % 2 else "delete Group", at(20) + dt.timedelta(seconds=20 * n))
    [finding] = run(tenant_a, Detection.BULK_DELETION)
    assert finding.key == {"actor": "admin@example.com"}
    assert finding.count == 12
    assert "6 × User" in finding.summary
    assert evidence_rows(finding, tenant_admin) == 12


def test_updates_or_deletions_by_several_actors_are_quiet(tenant_a):
    for n in range(12):
        audit(tenant_a, "update User", at(20) + dt.timedelta(seconds=20 * n))
        audit(tenant_a, "delete User", at(40) + dt.timedelta(seconds=20 * n), actor=f"admin{n % 2}@example.com")
    assert run(tenant_a, Detection.BULK_DELETION) == []


def berlin(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in Berlin in March 2026 (UTC+1)."""
    return dt.datetime(2026, 3, day, hour - 1, minute, tzinfo=dt.UTC)


def test_after_hours_changes_in_the_tenant_time_zone(tenant_a, tenant_admin):
    assert tenant_a.timezone == "Europe/Berlin"
    audit(tenant_a, "update IdentityProvider", berlin(9, 23, 30), actor="night@example.com")  # Monday night
    audit(tenant_a, "update IdentityProvider", berlin(9, 23, 45), actor="night@example.com")
    audit(tenant_a, "delete Role", berlin(7, 12), actor="weekend@example.com")  # Saturday noon
    findings = {f.key["actor"]: f for f in run(tenant_a, Detection.AFTER_HOURS_ADMIN)}
    assert set(findings) == {"night@example.com", "weekend@example.com"}
    assert findings["night@example.com"].count == 2
    assert findings["night@example.com"].key["day"] == "2026-03-09"
    assert evidence_rows(findings["night@example.com"], tenant_admin) == 2


def test_business_hours_and_console_actions_are_quiet(tenant_a):
    audit(tenant_a, "update User", berlin(10, 10), actor="day@example.com")  # Tuesday 10:00
    audit(tenant_a, "update User", berlin(10, 7, 30), actor="early@example.com")  # 06:30 UTC, 07:30 in Berlin
    audit(tenant_a, "export EventLog", berlin(9, 23), actor="exporter@example.com")  # not a change
    assert run(tenant_a, Detection.AFTER_HOURS_ADMIN) == []


def test_weekends_can_count_as_business_days(tenant_a):
    audit(tenant_a, "delete Role", berlin(7, 12), actor="weekend@example.com")
    assert run(tenant_a, Detection.AFTER_HOURS_ADMIN, weekends=0) == []
    assert len(run(tenant_a, Detection.AFTER_HOURS_ADMIN, weekends=1)) == 1


# ---------------------------------------------------------------------------------------------------- mail and jobs


def test_failed_password_reset_emails(tenant_a, tenant_admin):
    mail(tenant_a, "user@example.com", at(hours=3))
    mail(tenant_a, "user@example.com", at(hours=2), status="bounced")
    [finding] = run(tenant_a, Detection.FAILED_RESET_EMAILS)
    assert finding.key == {"recipient": "user@example.com"}
    assert finding.count == 2
    assert evidence_rows(finding, tenant_admin) == 2


def test_delivered_resets_and_other_failed_mail_are_quiet(tenant_a):
    mail(tenant_a, "user@example.com", at(hours=3), status="sent")
    mail(tenant_a, "user@example.com", at(hours=3), category="welcome")
    assert run(tenant_a, Detection.FAILED_RESET_EMAILS) == []


def test_repeated_job_failures(tenant_a, tenant_admin):
    job(tenant_a, "audit log trim", at(hours=20))
    job(tenant_a, "audit log trim", at(hours=2))
    job(tenant_a, "audit log trim", at(hours=1), status="success")
    [finding] = run(tenant_a, Detection.JOB_FAILURES)
    assert finding.key == {"job_name": "audit log trim"}
    assert finding.count == 2
    assert evidence_rows(finding, tenant_admin) == 2


def test_single_or_distant_job_failures_are_quiet(tenant_a):
    job(tenant_a, "audit log trim", at(days=5))
    job(tenant_a, "audit log trim", at(days=2))
    job(tenant_a, "sync Okta groups", at(hours=3))
    job(tenant_a, "import users", at(hours=2))
    assert run(tenant_a, Detection.JOB_FAILURES) == []


# ---------------------------------------------------------------------------------------------------- evaluation


def test_disabled_detection_does_not_run(tenant_a):
    failures(tenant_a, 12, start=at(60))
    detection_settings_update(
        tenant=tenant_a, actor="admin@example.com", detection=Detection.BRUTE_FORCE, enabled=False, thresholds={}
    )
    [result] = findings_evaluate(tenant=tenant_a, start=at(days=1), end=NOW, only=[Detection.BRUTE_FORCE])
    assert not result.enabled
    assert result.findings == []


def test_fingerprint_is_stable_across_periods(tenant_a):
    failures(tenant_a, 12, start=at(60))
    [first] = run(tenant_a, Detection.BRUTE_FORCE, start=at(days=7))
    [second] = run(tenant_a, Detection.BRUTE_FORCE, start=at(days=1))
    assert first.fingerprint == second.fingerprint
    failures(tenant_a, 12, start=at(60), email="else@example.com")
    assert {f.fingerprint for f in run(tenant_a, Detection.BRUTE_FORCE)} != {first.fingerprint}


def test_one_attack_is_reported_once_not_as_stuffing_and_spraying(tenant_a):
    """22 accounts failing from one IP within minutes match both detections; the page reports the attack once."""
    for n in range(22):
        event(
            tenant_a,
            "login_failed",
            at(40) + dt.timedelta(seconds=60 * n),
            email=f"leaked{n}@example.com",
            ip_address="203.0.113.66",
        )
    assert run(tenant_a, Detection.DISTRIBUTED_ATTACK), "alone, the spraying detection does see it"
    results = {r.spec.name: r for r in findings_evaluate(tenant=tenant_a, start=at(120), now=NOW)}
    [stuffing] = results[Detection.CREDENTIAL_STUFFING].findings
    assert results[Detection.DISTRIBUTED_ATTACK].findings == []
    assert stuffing.facts["also_matches"] == [Detection.DISTRIBUTED_ATTACK.label]


def test_spraying_from_another_ip_is_still_reported(tenant_a):
    for n in range(22):
        event(
            tenant_a,
            "login_failed",
            at(40) + dt.timedelta(seconds=60 * n),
            email=f"l{n}@x.example",
            ip_address="203.0.113.66",
        )
    for n in range(25):
        event(
            tenant_a,
            "login_failed",
            at(30) + dt.timedelta(seconds=30 * n),
            email=f"s{n % 4}@x.example",
            ip_address="198.51.100.9",
        )
    results = {r.spec.name: r for r in findings_evaluate(tenant=tenant_a, start=at(120), now=NOW)}
    assert [f.key for f in results[Detection.DISTRIBUTED_ATTACK].findings] == [{"ip_address": "198.51.100.9"}]
