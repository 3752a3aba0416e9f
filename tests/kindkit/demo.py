"""The throwaway kind's demo records: a device per sign-in-ish moment of the tenant's people."""

from authmon.world import DemoBuilder
from tests.kindkit.models import DeviceLog, Platform


class DeviceDemo(DemoBuilder):
    kinds = ("devices",)
    order = 70
    share = 0.05

    def script(self) -> None:
        w = self.world
        w.add("devices", DeviceLog(tenant_id=w.tenant.pk, device_name="guide-laptop", email=w.people[0].email,
                                   platform=Platform.MACOS, seen_at=w.local(1, 9, 0)))  # fmt: skip

    def fill(self, target: int) -> None:
        w = self.world
        while w.count("devices") < target:
            person = w.person()
            w.add(
                "devices",
                DeviceLog(
                    tenant_id=w.tenant.pk,
                    device_name=f"{person.username}-{self.rng.randint(1, 9)}",
                    email=person.email,
                    platform=self.rng.choice(Platform.values),
                    seen_at=w.pick_time(w.busy_cum),
                ),
            )
