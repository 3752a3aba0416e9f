from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "authmon console"

    def ready(self) -> None:
        from console import signals  # noqa: F401  (the audit record of each console sign-in)
