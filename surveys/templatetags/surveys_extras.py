from functools import cache
from typing import Any

from django import template
from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info

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
