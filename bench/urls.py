"""The console's URLs plus the benchmark-only Django admin under /bench-admin/."""

from django.urls import path

from bench.admin_site import site
from console.urls import urlpatterns as console

urlpatterns = [path("bench-admin/", site.urls), *console]
