from django.apps import AppConfig


class KindkitConfig(AppConfig):
    name = "tests.kindkit"
    label = "kindkit"
    verbose_name = "Device logs (test kind)"

    def ready(self) -> None:
        from authmon import registry
        from tests.kindkit.demo import DeviceDemo
        from tests.kindkit.kind import DEVICE_FIELDS, DeviceLogFilterSet, DeviceLogTable
        from tests.kindkit.models import DeviceLog

        registry.register(
            registry.LogKind(
                model=DeviceLog,
                table=DeviceLogTable,
                filterset=DeviceLogFilterSet,
                field_map=DEVICE_FIELDS,
                menu_order=70,
                default_retention_days=30,
                search_fields=("device_name",),
                search_label="Search by device name",
                export_label="Export Device Logs",
                person_fields=("email",),
                noun="device logs",
                demo_builder=DeviceDemo,
            )
        )
