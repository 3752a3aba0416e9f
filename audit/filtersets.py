from audit.models import AuditLog
from authmon.filtersets import LogFilterSet


class AuditLogFilterSet(LogFilterSet):
    class Meta:
        model = AuditLog
        fields = ["action", "target", "actor", "subject", "client_actor", "comments"]
