from authmon.filtersets import LogFilterSet
from notifications.models import NotificationLog


class NotificationLogFilterSet(LogFilterSet):
    class Meta:
        model = NotificationLog
        fields = ["subject", "recipient", "status", "category", "cc", "bcc"]
