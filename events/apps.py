from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Event logs"

    def ready(self) -> None:
        from authmon import registry
        from events.filtersets import EventLogFilterSet
        from events.models import EventLog
        from events.tables import EventLogTable

        registry.register(
            registry.LogKind(
                name="events",
                model=EventLog,
                label="Event Logs",
                table=EventLogTable,
                filterset=EventLogFilterSet,
                field_map_path="events.nlq_fields.EVENT_FIELDS",
                time_field="created_on",
                search_fields=("email",),
                search_label="Search by email",
                export_label="Export Login Events",
                person_fields=("email",),
                client_fields=("client_name",),
                noun="events",
            )
        )
