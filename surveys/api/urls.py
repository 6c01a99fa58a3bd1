from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from surveys.api import views

urlpatterns = [
    path("waves/", views.WaveListApi.as_view(), name="api-waves"),
    path("waves/<slug:wave>/", views.WaveDetailApi.as_view(), name="api-wave"),
    path(
        "waves/<slug:wave>/questionnaire/<str:audience>/",
        views.WaveQuestionnaireApi.as_view(),
        name="api-questionnaire",
    ),
    path("waves/<slug:wave>/responses/", views.ResponseSubmitApi.as_view(), name="api-responses"),
    path("auth/token/", views.AuthTokenApi.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
