from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notification logs"

    def ready(self) -> None:
        from authmon import registry
        from notifications.filtersets import NotificationLogFilterSet
        from notifications.models import NotificationLog
        from notifications.tables import NotificationLogTable

        registry.register(
            registry.LogKind(
                name="notifications",
                model=NotificationLog,
                label="Notification Logs",
                table=NotificationLogTable,
                filterset=NotificationLogFilterSet,
                field_map_path="notifications.nlq_fields.NOTIFICATION_FIELDS",
                time_field="timestamp",
                search_fields=("subject", "recipient"),
                search_label="Search subject or recipient",
                export_label="Export Notification Logs",
                person_fields=("recipient",),
                noun="e-mails",
            )
        )
