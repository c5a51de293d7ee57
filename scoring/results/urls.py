from django.urls import URLPattern, URLResolver, path

from scoring.results import export_views, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("results/", views.results_home, name="results_home"),
    path("results/<int:year>/", views.results_year, name="results_year"),
    path("results/<int:year>/results.csv", views.results_csv, name="results_csv"),
    path(
        "results/<int:year>/export.xlsx",
        export_views.ranking_xlsx,
        name="results_export_xlsx",
    ),
    path(
        "results/<int:year>/export.pdf",
        export_views.ranking_pdf,
        name="results_export_pdf",
    ),
    path("results/<int:year>/compute/", views.results_compute, name="results_compute"),
    path("results/<int:year>/publish/", views.results_publish, name="results_publish"),
    path("results/<int:year>/runs/", views.results_runs, name="results_runs"),
    path(
        "results/<int:year>/units/<str:code>/",
        views.results_unit,
        name="results_unit",
    ),
    path(
        "results/<int:year>/units/<str:code>/export.xlsx",
        export_views.unit_result_xlsx,
        name="results_unit_export_xlsx",
    ),
    path(
        "results/<int:year>/units/<str:code>/export.pdf",
        export_views.unit_result_pdf,
        name="results_unit_export_pdf",
    ),
]
