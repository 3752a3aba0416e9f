from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event logs"

    def ready(self) -> None:
        from django.db.models import Q

        from authmon import registry
        from authmon.auditing import CONSOLE_CLIENT
        from events.demo import SignInDemo
        from events.filtersets import EventLogFilterSet
        from events.models import EventLog
        from events.nlq_fields import EVENT_FIELDS
        from events.tables import EventLogTable

        registry.register(
            registry.LogKind(
                model=EventLog,
                table=EventLogTable,
                filterset=EventLogFilterSet,
                field_map=EVENT_FIELDS,
                menu_order=20,
                default_retention_days=365,
                search_fields=("email",),
                search_label="Search by email",
                export_label="Export Login Events",
                demo_builder=SignInDemo,
                person_fields=("email",),
                client_fields=("client_name",),
                console_rows=Q(client_name=CONSOLE_CLIENT),  # sign-ins through console.logins; events_tenant_client
                noun="events",
            )
        )
