"""The console's URLs plus the benchmark-only Django admin under /bench-admin/."""

from django.urls import path

from authmon.urls import urlpatterns as console
from bench.admin_site import site

urlpatterns = [path("bench-admin/", site.urls), *console]
