"""The throwaway kind's table, filterset and NLQ field map, each as short as a real kind's."""

import django_tables2 as tables

from authmon.filtersets import LogFilterSet
from authmon.tables import DetailsColumn, LogTable, PersonColumn, TimeColumn
from nlq import Choice, Field, FieldMap, FieldType, created_synonyms
from tests.kindkit.models import DeviceLog

DEVICE_FIELDS = FieldMap(
    kind="devices",
    title="Device Logs",
    fields=[
        Field("device_name", "device name", synonyms=("device", "machine")),
        Field("email", "email", synonyms=("user", "e-mail")),
        Field(
            "platform",
            "platform",
            FieldType.ENUM,
            ("os",),
            (Choice("linux", "linux"), Choice("macos", "macos", ("mac",)), Choice("windows", "windows")),
        ),
        Field("seen_at", "seen at", FieldType.DATETIME, ("seen", *created_synonyms("device"))),
        Field("details", "details", FieldType.JSON),
        Field("external_id", "external id"),
    ],
    time_field="seen_at",
    person_field="email",
    nouns=("devices", "device logs"),
)


class DeviceLogTable(LogTable):
    device_name = tables.Column()
    email = PersonColumn()
    platform = tables.Column()
    seen_at = TimeColumn()
    details = DetailsColumn()

    class Meta(LogTable.Meta):
        model = DeviceLog
        fields = ("device_name", "email", "platform", "seen_at", "details")


class DeviceLogFilterSet(LogFilterSet):
    class Meta:
        model = DeviceLog
        fields = ["device_name", "email", "platform"]
