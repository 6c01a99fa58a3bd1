"""HTML pages of the surveys app."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from surveys.selectors import waves_open


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the waves open for responses."""
    return render(request, "surveys/home.html", {"waves": waves_open()})
