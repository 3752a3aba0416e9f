"""URLs. The six monitoring pages are generated from the log-kind registry (DESIGN section 6b)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from authmon import registry
from authmon.api import api
from authmon.views import console, logs, retention
from sessions_grants.views import revoke_all_view

urlpatterns = [
    path("", console.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="authmon/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tenant/switch/", console.tenant_switch, name="tenant_switch"),
    path("settings/retention/", retention.retention_view, name="retention"),
    path("monitoring/users/<str:user>/", console.user_view, name="user_view"),
    path("monitoring/users/<str:user>/revoke-all/", revoke_all_view, name="revoke_all"),
    path("monitoring/clients/<str:client>/", console.client_view, name="client_view"),
    path("api/v1/", api.urls),
]

for kind in registry.kinds():
    urlpatterns.append(path(f"monitoring/{kind.name}/", include((logs.urls_for(kind), kind.name))))
