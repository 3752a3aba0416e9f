"""URLs. The six monitoring pages are generated from the log-kind registry (DESIGN section 6b)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from audit.views import chain_verify_view
from authmon import registry
from console.api import api
from console.logins import ConsoleLoginView
from console.views import console, logs, retention, tokens
from sessions_grants.views import revoke_all_view

urlpatterns = [
    path("", console.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page says; answer with the icon rather than a 404 in every log.
    path("favicon.ico", console.favicon, name="favicon"),
    path("login/", ConsoleLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tenant/switch/", console.tenant_switch, name="tenant_switch"),
    path("settings/retention/", retention.retention_view, name="retention"),
    path("settings/api-tokens/", tokens.api_tokens_view, name="api_tokens"),
    path("settings/api-tokens/<int:pk>/revoke/", tokens.api_token_revoke_view, name="api_token_revoke"),
    path("monitoring/users/<str:user>/", console.user_view, name="user_view"),
    path("monitoring/users/<str:user>/revoke-all/", revoke_all_view, name="revoke_all"),
    path("monitoring/clients/<str:client>/", console.client_view, name="client_view"),
    path("monitoring/", include("insights.urls")),
    path("api/v1/", api.urls),
    path("monitoring/audit/verify/", chain_verify_view, name="audit_verify"),
]

for kind in registry.kinds():
    urlpatterns.append(path(f"monitoring/{kind.name}/", include((logs.urls_for(kind), kind.name))))
