"""QuickSelect writes what Django's Select writes, without a template per
option."""

from __future__ import annotations

import pytest
from django import forms

from cchc_portal.widgets import QuickSelect
from commitments.organisation.models import Unit

CHOICES = [
    ("", "---------"),
    ('a"<b>&', 'Xã <Hòa> & "Bình"'),
    ("Huyện", [("h1", "Thị trấn"), ("h2", "Xã Đông")]),
]


class Both(forms.Form):
    quick = forms.ChoiceField(choices=CHOICES, widget=QuickSelect(attrs={"x": 1}))
    plain = forms.ChoiceField(choices=CHOICES, widget=forms.Select(attrs={"x": 1}))


def same(form: forms.Form) -> None:
    quick = str(form["quick"])
    plain = str(form["plain"]).replace('"plain"', '"quick"')
    plain = plain.replace('"id_plain"', '"id_quick"')
    assert quick == plain


@pytest.mark.parametrize(
    "data",
    [None, {"quick": "h2", "plain": "h2"}, {"quick": 'a"<b>&', "plain": 'a"<b>&'}],
)
def test_the_same_html_as_djangos_select_escaped_and_selected(data):
    same(Both(data=data))


@pytest.mark.django_db
def test_the_same_html_for_a_choice_of_units(org):
    units = Unit.objects.order_by("path")

    class Units(forms.Form):
        quick = forms.ModelChoiceField(units, to_field_name="code", widget=QuickSelect)
        plain = forms.ModelChoiceField(units, to_field_name="code")

    form = Units(data={"quick": org.commune_a.code, "plain": org.commune_a.code})
    same(form)
    assert f'value="{org.commune_a.code}" selected' in str(form["quick"])
