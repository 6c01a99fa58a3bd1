"""Request parsing with a hard size limit (413 rather than reading a huge body)."""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser

MAY_HOLD_SURROGATES = re.compile("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]")

# The charsets JSON may come in (RFC 8259 asks for UTF-8; RFC 7159 allowed the
# other Unicode encodings), by their codecs' canonical names. Python's codecs
# also know bytes-to-bytes ones (zlib, base64, rot13...) that a client must not
# be able to make the server run, nor inflate a body past its limit with.
JSON_CHARSETS = frozenset(
    {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
)


MAX_DEPTH = 32


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class LimitedJSONParser(JSONParser):
    """JSON of at most settings.API_MAX_BODY_BYTES bytes.

    The limit holds whether or not the client sent Content-Length: at most one
    byte more than the limit is ever read.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        encoding = _json_charset((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(raw, encoding)
            data = json.loads(text, parse_constant=_reject_constant)
            # A submission nests three deep (body, answers, a list of choices);
            # hundreds of levels only serve to exhaust the stack of whatever
            # walks the value next. Counted only when there are many brackets.
            if text.count("[") + text.count("{") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
                raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
            # "\ud800" parses to a lone surrogate, which no UTF-8 text (nor
            # PostgreSQL) can hold: refuse it here rather than fail later. Only
            # such an escape can make one (the UTF decoders refuse them).
            if MAY_HOLD_SURROGATES.search(text):
                json.dumps(data, ensure_ascii=False).encode("utf-8")
            return data
        except (ValueError, UnicodeError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from exc
        except RecursionError as exc:  # arrays or objects nested thousands deep
            raise ParseError("Malformed JSON: nested too deeply.") from exc


def _json_charset(name: str) -> str:
    """The codec for a charset JSON may be sent in; 415 for any other."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        codec = ""
    if codec not in JSON_CHARSETS:
        raise UnsupportedMediaType(
            f"application/json; charset={name}", detail=f"Unsupported charset '{name}': send UTF-8."
        )
    return codec


def _depth(data: Any) -> int:
    """How deep arrays and objects nest in ``data``, counted up to one level
    past MAX_DEPTH (walked without recursion, containers only)."""
    deepest, pending = 0, [(data, 1)]
    while pending:
        value, level = pending.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest if isinstance(data, dict | list) else 0


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON; accepting them would store non-standard data.
    raise ValueError(f"{name} is not valid JSON")
