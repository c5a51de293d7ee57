from django.urls import URLPattern, path

from commitments.organisation.api import views

app_name = "organisation_api"

urlpatterns: list[URLPattern] = [
    path("units/", views.UnitListView.as_view(), name="unit-list"),
    path("heads/", views.HeadListView.as_view(), name="head-list"),
]
