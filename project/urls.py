"""URL routes: the /user/ API, provider webhooks, health checks, the OpenAPI schema and docs, the
admin, and the web pages (last, so that they never shadow an API path)."""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from project import docs, health
from project.metrics import metrics_view
from users.admin import admin_login

urlpatterns = [
    path("user/", include("users.urls")),
    path("notifications/", include("notifications.urls")),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", docs.SwaggerDocs.as_view(url_name="schema"), name="docs"),
    path("api/redoc/", docs.RedocDocs.as_view(url_name="schema"), name="redoc"),
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    # The pages' language switcher (Django's set_language: a cookie) and their JavaScript strings.
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["web"]), name="javascript-catalog"),
    path("", include("web.urls")),
]

handler400 = "project.exceptions.bad_request"
handler403 = "project.exceptions.permission_denied"
handler404 = "project.exceptions.page_not_found"
handler500 = "project.exceptions.server_error"
