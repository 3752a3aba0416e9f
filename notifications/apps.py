from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notification logs"

    def ready(self) -> None:
        from authmon import registry
        from notifications.demo import NotificationsDemo
        from notifications.filtersets import NotificationLogFilterSet
        from notifications.models import NotificationLog
        from notifications.nlq_fields import NOTIFICATION_FIELDS
        from notifications.tables import NotificationLogTable

        registry.register(
            registry.LogKind(
                model=NotificationLog,
                table=NotificationLogTable,
                filterset=NotificationLogFilterSet,
                field_map=NOTIFICATION_FIELDS,
                menu_order=40,
                default_retention_days=180,
                search_fields=("subject", "recipient"),
                search_label="Search subject or recipient",
                export_label="Export Notification Logs",
                demo_builder=NotificationsDemo,
                person_fields=("recipient",),
                noun="e-mails",
            )
        )
