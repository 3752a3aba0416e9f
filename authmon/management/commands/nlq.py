"""``manage.py nlq KIND "question" [--now ISO] [--tz TZ] [--tenant SLUG] [--json]``.

Shows how a question is understood on a page (chips, summary, canonical text, ignored words) and how many
records it matches, for admins scripting and for debugging the language. The last line is the count.
"""

from __future__ import annotations

import json
import zoneinfo
from datetime import datetime
from typing import Any

from dateutil.parser import isoparse
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from authmon import registry
from authmon.models import Tenant
from authmon.tenancy import command_tenant_use
from nlq import NLQError, interpret


class Command(BaseCommand):
    help = "Interpret a natural-language question on one kind's page and count the records it matches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", help="audit, events, jobs, notifications, sessions or grants.")
        parser.add_argument("question", help='The question, e.g. "failed logins from IP 10.0.0.4 yesterday".')
        parser.add_argument("--now", default="", help="The moment to read relative times from (ISO; default now).")
        parser.add_argument("--tz", default="", help="Time zone for calendar phrases (default: the tenant's, or UTC).")
        parser.add_argument("--tenant", default="", help="Count this tenant's records only (slug).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args: Any, kind: str, question: str, now: str, tz: str, tenant: str, **options: Any) -> None:
        try:
            log_kind = registry.get(kind)
        except KeyError:
            names = ", ".join(k.name for k in registry.kinds())
            raise CommandError(f"Unknown kind '{kind}'. Kinds: {names}.") from None
        owner = self._tenant(tenant)
        zone = self._zone(tz or (owner.timezone if owner else "UTC"))
        moment = self._now(now, zone)
        try:
            result = interpret(question, log_kind.field_map, now=moment, tz=zone)
        except NLQError as exc:
            lines = [exc.message, exc.caret(question), f"Expected: {exc.expected}"]
            if exc.suggestions:
                lines.append(f"Suggestions: {', '.join(exc.suggestions)}")
            raise CommandError("\n".join(lines)) from None
        records = log_kind.model.objects.all()  # type: ignore[attr-defined]
        if owner is not None:
            command_tenant_use(owner.pk)
            records = records.filter(tenant=owner)
        count = records.filter(result.q).count()
        scope = f"tenant {owner.slug}" if owner else "all tenants"
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "kind": kind,
                        "question": question,
                        "now": moment.isoformat(),
                        "tz": str(zone),
                        "summary": result.summary,
                        "canonical": result.canonical,
                        "chips": [c.text for c in result.chips],
                        "ignored": [{"word": w, "position": p} for w, p in result.ignored],
                        "scope": scope,
                        "count": count,
                    },
                    ensure_ascii=False,
                )
            )
            return
        self.stdout.write(f"Question:   {question}")
        self.stdout.write(f"Understood: {result.summary or '(nothing: every record)'}")
        self.stdout.write(f"Canonical:  {result.canonical}")
        for chip in result.chips:
            self.stdout.write(f"  [{chip.text}]")
        if result.ignored:
            self.stdout.write(f"Ignored:    {', '.join(w for w, _ in result.ignored)}")
        self.stdout.write(f"Now:        {moment.astimezone(zone).isoformat()} ({zone})")
        self.stdout.write(f"{count} matching {log_kind.noun} ({scope})")

    def _tenant(self, slug: str) -> Tenant | None:
        if not slug:
            return None
        try:
            return Tenant.objects.get(slug=slug)
        except Tenant.DoesNotExist:
            raise CommandError(f"No tenant with slug '{slug}'.") from None

    def _zone(self, name: str) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"Unknown time zone '{name}'.") from None

    def _now(self, text: str, zone: zoneinfo.ZoneInfo) -> datetime:
        if not text:
            return timezone.now()
        try:
            moment = isoparse(text)
        except (ValueError, OverflowError):
            raise CommandError(f"--now must be an ISO date or date-time, not '{text}'.") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
