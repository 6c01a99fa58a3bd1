"""URL configuration: each app brings its own urls; nothing else lives here."""

from django.contrib import admin
from django.urls import include, path

from coprod.health import health

handler400 = "coprod.errors.bad_request"
handler403 = "coprod.errors.permission_denied"
handler404 = "coprod.errors.page_not_found"
handler500 = "coprod.errors.server_error"

admin.site.site_header = "Coprod administration"
admin.site.site_title = "Coprod"

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("surveys.api.urls")),
    path("api/v1/", include("analytics.api.urls")),
    path("", include("analytics.urls")),
    path("", include("surveys.urls")),
]
