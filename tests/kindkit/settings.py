"""authmon's settings plus the throwaway kind's app: what adding a kind asks of a project (one INSTALLED_APPS line)."""

from authmon.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.kindkit"]  # noqa: F405
