from django.urls import path

from analytics import dashboard, views

app_name = "analytics"

urlpatterns = [
    path("results/<slug:wave>/", dashboard.public_results, name="public_results"),
    path("dashboard/<slug:wave>/", dashboard.wave_overview, name="wave_overview"),
    path("dashboard/<slug:wave>/gaps/", dashboard.gap_table, name="gap_table"),
    path("dashboard/<slug:wave>/<slug:locality>/", dashboard.locality_report, name="locality_report"),
    path(
        "official/<slug:wave>/<slug:locality>/comparison/",
        views.official_comparison_page,
        name="official_comparison",
    ),
]
