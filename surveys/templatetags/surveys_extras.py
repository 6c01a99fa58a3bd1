from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    """mapping[key] in a template, or an empty string."""
    return (mapping or {}).get(key, "")
