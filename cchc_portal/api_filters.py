"""Query parameters shared by the APIs, so that what a parameter accepts is
what the schema says of it: a value the schema refuses answers 400 naming
the parameter, never a list that silently ignores it.

Every API filterset derives from FilterSet here, a query string read by a
serializer from QuerySerializer, and every list pages with
PageNumberPagination here (REST_FRAMEWORK's default)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import django_filters
from django import forms
from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from rest_framework import pagination, serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request

BLANK = _("An empty value is not a value: give one, or leave the parameter out.")
NOT_BOOLEAN = _("Must be true or false.")
NOT_ISO_DATE = _("Enter a date as yyyy-mm-dd.")
NOT_INTEGER = forms.IntegerField.default_error_messages["invalid"]

BOOLEANS = ("true", "false")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
INTEGER = re.compile(r"-?[0-9]+")
# A page number longer than this is beyond any page (and than what int() reads).
MAX_PAGE_DIGITS = 18


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (a year, an id). django-filter's NumberFilter reads a
    decimal, so ``?year=2025.5`` was taken where the schema says integer;
    this one refuses it with a 400 naming the parameter."""

    field_class = forms.IntegerField


class FilterForm(forms.Form):
    """The form of a FilterSet, refusing what django-filter lets through as
    "no filter": a parameter given an empty (or blank) value, a boolean other
    than true/false (``?met=null`` read as unknown), a date not in the
    schema's ISO form (the portal's locale also reads dd/mm/yyyy)."""

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        for name, field in self.fields.items():
            key = self.add_prefix(name)
            if name in self.errors or key not in self.data:
                continue
            raw = self.data.get(key)
            if not isinstance(raw, str):
                continue
            if not raw.strip():
                self.add_error(name, forms.ValidationError(BLANK, code="blank"))
            elif isinstance(field, forms.NullBooleanField) and raw not in BOOLEANS:
                self.add_error(name, forms.ValidationError(NOT_BOOLEAN, code="invalid"))
            elif isinstance(field, forms.DateField) and not ISO_DATE.fullmatch(raw):
                self.add_error(
                    name, forms.ValidationError(NOT_ISO_DATE, code="invalid")
                )
        return cleaned


class FilterSet(django_filters.FilterSet):
    """The base of every API filterset: its parameters refuse an empty value
    and anything their schema does not allow (FilterForm), with a 400 from
    DjangoFilterBackend naming the parameter."""

    def get_form_class(self) -> type[forms.Form]:
        form = super().get_form_class()
        if issubclass(form, FilterForm):
            return form
        return type(form.__name__, (FilterForm, form), {})


class QuerySerializer(serializers.Serializer):
    """The base of a query string read by a serializer. DRF reads an empty
    value of an optional field in a query string as left out (``?group=``
    lists every group, where the schema says minLength 1); here a parameter
    given an empty value is refused, as FilterForm does."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)
        blank: dict[str, Any] = {}
        for name in self.fields:
            value = data.get(name)
            if isinstance(value, str) and not value.strip():
                blank[str(name)] = [ErrorDetail(str(BLANK), code="blank")]
        if blank:
            raise ValidationError(blank)
        return super().to_internal_value(data)


class StrictFilterExtension(DjangoFilterExtension):
    """The schema of our filtersets' parameters: a string parameter with no
    enum or format says it needs a non-blank value (minLength 1, a character
    that is not a space), as FilterForm refuses a blank one."""

    priority = 1

    def resolve_filter_field(
        self,
        auto_schema: Any,
        model: Any,
        filterset_class: Any,
        field_name: str,
        filter_field: Any,
    ) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        if not issubclass(filterset_class, FilterSet):
            return parameters
        for parameter in parameters:
            schema = parameter.get("schema", {})
            plain = not {"enum", "format"} & set(schema)
            if schema.get("type") == "string" and plain:
                schema.setdefault("minLength", 1)
                schema.setdefault("pattern", r"\S")
        return parameters


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's pages, with ``page`` an integer as the schema says: an empty or
    non-integer value answers 400 naming it (DRF read ``?page=`` as page 1
    and ``?page=abc`` as a missing page, 404). A page out of range (0, or
    past the last) still answers 404, documented as "no such page"; DRF's
    ``?page=last``, not in the schema, is not read."""

    last_page_strings = ()

    def get_page_number(self, request: Request, paginator: Paginator) -> int:
        name = self.page_query_param
        raw = request.query_params.get(name)
        if raw is None:
            return 1
        if not raw.strip():
            raise ValidationError({name: [ErrorDetail(str(BLANK), code="blank")]})
        if not INTEGER.fullmatch(raw):
            raise ValidationError(
                {name: [ErrorDetail(str(NOT_INTEGER), code="invalid")]}
            )
        if len(raw.lstrip("-")) > MAX_PAGE_DIGITS:
            return paginator.num_pages + 1
        return int(raw)
