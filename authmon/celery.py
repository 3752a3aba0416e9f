"""The Celery app. With no ``REDIS_URL`` tasks run eagerly, in-process (the embedded mode)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authmon.settings")

app = Celery("authmon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
