"""The site's error pages: JSON under /api/ (the API's one error shape), a page
in the visitor's language everywhere else. Django calls these for errors raised
outside the API's own views (no such URL, a malformed request, a failed CSRF
check, an unexpected failure, a service out of reach)."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from surveys.api.errors import error_body

API_PREFIX = "/api/"

# Failures of a service, not of the request or the code: PostgreSQL or Redis
# out of reach, restarting or out of connections. They answer 503 with
# Retry-After rather than 500: nothing is wrong with what the client sent,
# and the same request will succeed once the service is back. Everything
# else, deterministic database errors included (a statement timeout, a limit
# exceeded, a wrong Redis password), stays a 500 that looks like a bug.
OUTAGE_RETRY_AFTER = 30  # seconds
# PostgreSQL's SQLSTATEs for a server going away or refusing connections:
# class 08 (connection exception), admin/crash shutdown and "cannot connect
# now" (57P01-57P03), too many connections (53300).
OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _outage(exc: BaseException | None) -> bool:
    from redis.exceptions import AuthenticationError as RedisAuthenticationError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return not isinstance(exc, RedisAuthenticationError)
    if isinstance(exc, InterfaceError):  # a connection already closed
        return True
    if isinstance(exc, OperationalError):
        import psycopg

        cause = exc.__cause__
        if not isinstance(cause, psycopg.Error):
            return False  # SQLite's errors, or Django's own
        # No SQLSTATE: the client could not reach the server or lost it.
        return cause.sqlstate is None or cause.sqlstate.startswith(OUTAGE_SQLSTATES)
    return False


def _for_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _error(
    request: HttpRequest, status: int, code: str, api_message: str, title: Promise, message: Promise
) -> HttpResponse:
    """JSON in the API's error shape under /api/, else the page."""
    if _for_api(request):
        return JsonResponse(error_body(code, api_message), status=status)
    return _page(request, status, title, message)


def _page(request: HttpRequest, status: int, title: Promise, message: Promise) -> HttpResponse:
    # In the visitor's language also when the request failed before
    # LocaleMiddleware chose it (coprod.middleware runs first): the words are
    # lazy, translated as the page renders.
    translation.activate(translation.get_language_from_request(request))
    # The page that says why a respondent cannot answer serves every error.
    response = render(
        request, "surveys/unavailable.html", {"title": title, "message": message}, status=status
    )
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 400, "bad_request", "The request is malformed.",
        _("Request not understood"),
        _("Your browser sent something this site could not read. Please go back and try again."),
    )  # fmt: skip


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 403, "forbidden", "You may not do this.",
        _("Not allowed"), _("You do not have access to this page."),
    )  # fmt: skip


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 404, "not_found", "There is nothing at this address.",
        _("Page not found"), _("There is no page at this address. Please check the link you followed."),
    )  # fmt: skip


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its security token, or with a stale one (cookies
    cleared, the page open for a very long time)."""
    return _page(
        request,
        403,
        _("Form expired"),
        _("This form could not be accepted. Please go back, reload the page and try again."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """An exception no view handled (Django calls this while handling it, and
    logs it either way). Rendered without the request: whatever failed may
    fail again in a page's tags (a session in an unreachable Redis)."""
    if _outage(sys.exc_info()[1]):
        status, code, api_message = (
            503,
            "service_unavailable",
            (
                "A service this request needs is out of reach for now; try again later. "
                "A submission sent again with the same submission_id is never stored twice."
            ),
        )
        title, message = (
            _("Briefly unavailable"),
            _(
                "Coprod cannot reach one of its services just now. Answers you already saved are kept; "
                "please try again in a minute."
            ),
        )
    else:
        status, code, api_message = (
            500,
            "server_error",
            "Something went wrong on our side; it has been logged.",
        )
        title, message = (
            _("Something went wrong"),
            _(
                "An error on our side stopped this page. It has been recorded. Answers you already saved are "
                "kept; please try again in a few minutes."
            ),
        )
    if _for_api(request):
        response: HttpResponse = JsonResponse(error_body(code, api_message), status=status)
    else:
        page = loader.get_template("500.html").render({"title": title, "message": message})
        response = HttpResponse(page, status=status)
    if status == 503:
        response["Retry-After"] = str(OUTAGE_RETRY_AFTER)
    return response
