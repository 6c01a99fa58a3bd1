from functools import cache, lru_cache
from typing import Any

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info, gettext, override

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    """mapping[key] in a template, or an empty string."""
    return (mapping or {}).get(key, "")


@register.simple_tag
def language_options() -> SafeString:
    """The language menu's options, the current language selected: the same
    on every page, so built once per language rather than on every page."""
    return _language_options(get_language())


@cache
def _language_options(current: str) -> SafeString:
    options = []
    for code, _name in settings.LANGUAGES:
        selected = " selected" if code == current else ""
        name = escape(get_language_info(code)["name_local"])
        options.append(f'<option value="{code}"{selected} lang="{code}">{name}</option>')
    return mark_safe("\n".join(options))  # noqa: S308 - escaped names and codes from settings


# Where the per-request values go in the site header, built once per language.
_CSRF_MARK = "\x00csrf\x00"
_NEXT_MARK = "\x00next\x00"


@register.simple_tag(takes_context=True)
def site_header(context: template.Context) -> SafeString:
    """The skip link and the site header (brand, account links for the signed
    in, the language menu), as base.html used to build them node by node on
    every page. Everything but the CSRF token and the current path is the same
    for every page in a language, so it is built once per language."""
    request = context.get("request")
    user = context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    markup = _site_header(get_language() or "", get_script_prefix(), signed_in)
    token = context.get("csrf_token")
    csrf = (
        format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
        if token and token != "NOTPROVIDED"  # noqa: S105 - Django's marker for "no token wanted"
        else ""
    )
    path = escape(request.get_full_path()) if request is not None else ""
    return mark_safe(markup.replace(_CSRF_MARK, csrf).replace(_NEXT_MARK, path))  # noqa: S308 - escaped


@lru_cache(maxsize=64)  # bounded: the script prefix comes with each request
def _site_header(language: str, script_prefix: str, signed_in: bool) -> str:
    with override(language or None):
        words = {  # gettext called on each literal, where makemessages finds them
            "skip": escape(gettext("Skip to main content")),
            "account": escape(gettext("Account")),
            "surveys": escape(gettext("Your surveys")),
            "sign_out": escape(gettext("Sign out")),
            "language": escape(gettext("Language")),
            "change": escape(gettext("Change language")),
        }
        account = (
            f'<nav aria-label="{words["account"]}" class="account">\n'
            f'<a href="{escape(reverse("surveys:official_home"))}">{words["surveys"]}</a>\n'
            f'<form method="post" action="{escape(reverse("surveys:logout"))}">{_CSRF_MARK}'
            f'<button type="submit" class="link-button">{words["sign_out"]}</button></form>\n'
            "</nav>\n"
            if signed_in
            else ""
        )
        return (
            f'<a class="skip-link" href="#main">{words["skip"]}</a>\n'
            '<header class="site-header">\n'
            f'<a class="brand" href="{escape(reverse("surveys:home"))}">Coprod</a>\n'
            f"{account}"
            f'<form class="language" action="{escape(reverse("set_language"))}" method="post">\n'
            f"{_CSRF_MARK}\n"
            f'<input name="next" type="hidden" value="{_NEXT_MARK}">\n'
            f'<label for="language-select">{words["language"]}</label>\n'
            f'<select id="language-select" name="language">\n{_language_options(language)}\n</select>\n'
            f'<button type="submit">{words["change"]}</button>\n'
            "</form>\n"
            "</header>"
        )


@register.simple_tag
def site_assets() -> SafeString:
    """The stylesheet and script every page loads (their hashed names looked up once)."""
    return _site_assets(get_script_prefix())


@lru_cache(maxsize=64)
def _site_assets(script_prefix: str) -> SafeString:
    return format_html(
        '<link rel="stylesheet" href="{}">\n  <script src="{}" defer></script>',
        static("surveys/coprod.css"),
        static("surveys/coprod.js"),
    )
