from django.apps import AppConfig


class AuthmonConfig(AppConfig):
    name = "authmon"
    verbose_name = "authmon"

    def ready(self) -> None:
        from authmon import lookups  # noqa: F401  (registers the JSON text lookup)
