import django_tables2 as tables

from authmon.tables import DetailsColumn, LogTable, PersonColumn, StatusColumn, TimeColumn, TruncatedColumn
from notifications.models import NotificationLog


class NotificationLogTable(LogTable):
    hidden_by_default = ("cc", "bcc")

    subject = TruncatedColumn(length=60)
    recipient = PersonColumn()
    timestamp = TimeColumn()
    status = StatusColumn()
    category = tables.Column()
    details = DetailsColumn(copy_field="body", verbose_name="Details")
    cc = TruncatedColumn(verbose_name="CC", length=40)
    bcc = TruncatedColumn(verbose_name="BCC", length=40)

    class Meta(LogTable.Meta):
        model = NotificationLog
        fields = ("subject", "recipient", "timestamp", "status", "category", "details", "cc", "bcc")
