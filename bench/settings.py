"""Settings for the benchmark: production authmon settings plus a Django admin to measure beside the console.

``python -m bench`` sets DEBUG=0, SECRET_KEY and DATABASE_URL before Django starts, so everything the pages do is
what production does. The admin is added here only (``bench/urls.py``), never to the product. Static files use
Django's manifest storage instead of WhiteNoise's compressed one: templates resolve ``{% static %}`` through the
same manifest, and the benchmark's ``collectstatic`` skips compressing every file.
"""

from authmon.settings import *  # noqa: F403
from authmon.settings import INSTALLED_APPS, STORAGES

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.admin"]
ROOT_URLCONF = "bench.urls"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
