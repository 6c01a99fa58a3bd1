from django.urls import path

from analytics.api import views

urlpatterns = [
    path("waves/<slug:wave>/indices/", views.IndexListApi.as_view(), name="api-indices"),
    path("waves/<slug:wave>/gaps/", views.GapListApi.as_view(), name="api-gaps"),
]
