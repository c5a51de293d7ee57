from django.urls import URLPattern, URLResolver, path

from scoring import result_views as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("results/", views.results_home, name="results_home"),
    path("results/<int:year>/", views.results_year, name="results_year"),
    path("results/<int:year>/results.csv", views.results_csv, name="results_csv"),
    path("results/<int:year>/compute/", views.results_compute, name="results_compute"),
    path("results/<int:year>/publish/", views.results_publish, name="results_publish"),
    path("results/<int:year>/runs/", views.results_runs, name="results_runs"),
    path(
        "results/<int:year>/units/<str:code>/",
        views.results_unit,
        name="results_unit",
    ),
]
