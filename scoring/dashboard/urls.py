from django.urls import URLPattern, URLResolver, path

from scoring.dashboard import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("dashboard/units/<str:code>/", views.dashboard_unit, name="dashboard_unit"),
]
