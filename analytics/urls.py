from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path(
        "official/<slug:wave>/<slug:locality>/comparison/",
        views.official_comparison_page,
        name="official_comparison",
    ),
]
