"""A partial, covering index over the rare event types the detections aggregate (PostgreSQL only).

The detections group failed logins, MFA events, resets and lockouts of one tenant and period by e-mail, IP address
or user agent. These are a few percent of all events, but spread over every heap page, so without this index each
grouping reads the whole period of the events table. With it, those groupings are index-only scans of a small
index. It lives here rather than in events/ because only the insights queries need it; whoever reshapes the events
table (partitioning) should carry it over.
"""

from django.db import migrations

SIGNAL_TYPES = ("login_failed", "mfa_failed", "mfa_verified", "password_reset", "account_locked")
NAME = "insights_events_signals"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    types = ", ".join(f"'{t}'" for t in SIGNAL_TYPES)
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON events_eventlog (tenant_id, event_type, created_on) "
        f"INCLUDE (id, email, ip_address, user_agent) WHERE event_type IN ({types})"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction; writes go on while it builds

    dependencies = [
        ("events", "0001_initial"),
        ("insights", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
