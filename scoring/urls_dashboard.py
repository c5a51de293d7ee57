from django.urls import URLPattern, URLResolver, path

from scoring import dashboard_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("dashboard/units/<str:code>/", views.dashboard_unit, name="dashboard_unit"),
]
