from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event logs"

    def ready(self) -> None:
        from authmon import registry
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
                noun="events",
            )
        )
