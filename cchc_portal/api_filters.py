"""Query filters shared by the APIs, so that what a filter accepts is what
the schema says of it."""

from __future__ import annotations

import django_filters
from django import forms


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (a year, an id). django-filter's NumberFilter reads a
    decimal, so ``?year=2025.5`` was taken where the schema says integer;
    this one refuses it with a 400 naming the parameter."""

    field_class = forms.IntegerField
