"""The index API: stored engagement indices, with their freshness."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.api.serializers import GAP_CSV_COLUMNS, GapRowSerializer, IndexRowSerializer, gap_csv_rows
from analytics.disclosure import Disclosure, disclosure_for_user
from analytics.models import Level
from analytics.selectors import freshness, gaps_for_wave, indices_for_wave
from analytics.services import GAP_LEVELS
from surveys.api.views import error_response, errors_of_every_endpoint
from surveys.models import Audience, Wave
from surveys.selectors import wave_get


class Pages(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


PAGING = [
    OpenApiParameter("page", int, required=False),
    OpenApiParameter("page_size", int, required=False, description="Up to 1000 (default 100)."),
]
JSON = "application/json"


def read_errors(bad_filter: str) -> dict[int, OpenApiResponse]:
    return {
        **errors_of_every_endpoint(
            f"invalid_response: {bad_filter} (errors per parameter)",
            "not_authenticated: no credentials",
        ),
        403: error_response("forbidden: not a survey manager, analyst or official."),
        404: error_response("not_found: no such wave, or a page past the last one (or not a page number)."),
    }


def readable_wave(request: Request, code: str) -> tuple[Wave, Disclosure]:
    """The wave and what the caller may see of its figures.
    Raises NotFound or PermissionDenied."""
    wave = wave_get(code)
    if wave is None:
        raise NotFound(f"No wave '{code}'.")
    disclosure = disclosure_for_user(request.user, wave.pk)
    if disclosure is None:
        raise PermissionDenied("Only survey managers, analysts and officials read figures.")
    return wave, disclosure


class IndexListApi(APIView):
    pagination_class = Pages  # read by the schema; get() paginates itself

    @extend_schema(
        operation_id="indices_list",
        summary="Engagement indices of a wave",
        description=(
            "Stored indices per locality, audience, level (activity, service_area, kind, overall) "
            "and key. Survey managers and analysts see every locality; officials their own, without "
            "any figure computed from officials' answers, and with no figure at all of a locality "
            "before they have answered for it in this wave (see `withheld`). "
            "Each row says when it was computed, from which responses (watermark: the highest "
            "response id included), and whether newer responses are not in it yet (stale, lag_seconds)."
        ),
        parameters=[
            OpenApiParameter("locality", str, required=False),
            OpenApiParameter("audience", str, enum=Audience.values, required=False),
            OpenApiParameter("level", str, enum=Level.values, required=False),
            OpenApiParameter("key", str, required=False),
            *PAGING,
        ],
        responses={
            200: IndexRowSerializer(many=True),
            **read_errors("an unknown audience or level"),
        },
    )
    def get(self, request: Request, wave: str) -> Response:
        target, disclosure = readable_wave(request, wave)
        params = request.query_params
        errors = {}
        if params.get("audience") and params["audience"] not in Audience.values:
            errors["audience"] = [f"Must be one of: {', '.join(Audience.values)}."]
        if params.get("level") and params["level"] not in Level.values:
            errors["level"] = [f"Must be one of: {', '.join(Level.values)}."]
        if errors:
            raise ValidationError(errors)
        rows = indices_for_wave(
            target.pk,
            locality_ids=disclosure.localities,
            locality_code=params.get("locality"),
            audience=params.get("audience"),
            level=params.get("level"),
            key=params.get("key"),
        )
        paginator = Pages()
        page = paginator.paginate_queryset(rows, request, view=self)
        context = {
            "freshness": freshness(target.pk, {row.locality_id for row in page or []}),
            "disclosure": disclosure,
        }
        return paginator.get_paginated_response(IndexRowSerializer(page, many=True, context=context).data)


class GapCSVRenderer(BaseRenderer):
    """The gap table as CSV (UTF-8 with a byte-order mark, so spreadsheets read accents)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if not isinstance(data, list):  # not the table (the view renders its errors as JSON)
            return json.dumps(data).encode()
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=GAP_CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(data)
        return ("\ufeff" + out.getvalue()).encode("utf-8")


class GapXLSXRenderer(BaseRenderer):
    """The gap table as an Excel workbook (one sheet, a header row, numbers as numbers)."""

    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if not isinstance(data, list):  # not the table (the view renders its errors as JSON)
            return json.dumps(data).encode()
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("gaps")
        sheet.append(GAP_CSV_COLUMNS)
        for row in data:
            sheet.append([row[column] for column in GAP_CSV_COLUMNS])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def _flag(params: Any, name: str) -> bool:
    value = params.get(name, "").lower()
    if value in ("", "false", "0"):
        return False
    if value in ("true", "1"):
        return True
    raise ValidationError({name: ["Must be true or false."]})


class GapListApi(APIView):
    renderer_classes = [JSONRenderer, GapCSVRenderer, GapXLSXRenderer]
    pagination_class = Pages  # read by the schema; get() paginates itself

    @extend_schema(
        operation_id="gaps_list",
        summary="Perception gaps of a wave",
        description=(
            "Per locality, level (activity, service_area, overall) and key: citizens' engaged share "
            "and officials' mean estimate with their intervals, the gap (citizens minus officials) "
            "with its MOVER interval, the p-value and the Benjamini-Hochberg q-value across the "
            "wave. Shares are proportions 0-1. Suppressed rows keep their counts; every estimate "
            "is null. `?format=csv` or `?format=xlsx` gives the same table as a file (every matching row). "
            "`?weighted=true` gives the weighted variant instead: citizens weighted to the locality's "
            "population by age band x gender (post-stratification or raking), intervals at the Kish "
            "effective n, rows labelled `weighted` with their `weighting`; only localities with "
            "population figures have weighted rows. "
            "Survey managers and analysts read every locality; officials their own, with the "
            "officials' side, the gap, its interval, p and q withheld (`withheld`: "
            "`officials_answers`), and no figure at all of a locality before they have answered "
            "for it in this wave (`answer_first`)."
        ),
        parameters=[
            OpenApiParameter("locality", str, required=False),
            OpenApiParameter(
                "level", str, enum=[Level.ACTIVITY, Level.SERVICE_AREA, Level.OVERALL], required=False
            ),
            OpenApiParameter("key", str, required=False),
            OpenApiParameter(
                "weighted", bool, required=False, description="The weighted variant (default false)."
            ),
            OpenApiParameter("format", str, enum=["json", "csv", "xlsx"], required=False),
            *PAGING,
        ],
        responses={
            (200, JSON): GapRowSerializer(many=True),
            (200, GapCSVRenderer.media_type): OpenApiResponse(
                OpenApiTypes.STR, description="?format=csv: every matching row, one column per figure."
            ),
            (200, GapXLSXRenderer.media_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="?format=xlsx: the same table as an Excel workbook."
            ),
            # Errors are JSON whatever the format asked for (see handle_exception).
            **{
                (status, JSON): response
                for status, response in read_errors("an unknown level, or weighted not true or false").items()
            },
        },
    )
    def get(self, request: Request, wave: str) -> Response:
        target, disclosure = readable_wave(request, wave)
        params = request.query_params
        if params.get("level") and params["level"] not in GAP_LEVELS:
            raise ValidationError({"level": [f"Must be one of: {', '.join(GAP_LEVELS)}."]})
        weighted = _flag(params, "weighted")
        rows = gaps_for_wave(
            target.pk, locality_ids=disclosure.localities, locality_code=params.get("locality"),
            level=params.get("level"), key=params.get("key"), weighted=weighted,
        )  # fmt: skip
        file_format = request.accepted_renderer.format
        if file_format in ("csv", "xlsx"):
            name = f"{target.code}-gaps-weighted" if weighted else f"{target.code}-gaps"
            return Response(
                list(gap_csv_rows(rows, disclosure)),
                headers={"Content-Disposition": f'attachment; filename="{name}.{file_format}"'},
            )
        paginator = Pages()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(
            GapRowSerializer(page, many=True, context={"disclosure": disclosure}).data
        )

    def handle_exception(self, exc: Exception) -> Response:
        """Errors in the API's JSON shape, as JSON, also when the caller asked
        for the CSV or xlsx file (not the file's type around a JSON body)."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
