from django.urls import URLPattern, URLResolver, path

from scoring.api import accountability_views, results_views, views

app_name = "scoring_api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("frameworks/", views.FrameworkListView.as_view(), name="framework-list"),
    path(
        "frameworks/<int:pk>/",
        views.FrameworkDetailView.as_view(),
        name="framework-detail",
    ),
    path("assessments/", views.AssessmentListView.as_view(), name="assessment-list"),
    path(
        "assessments/<int:pk>/",
        views.AssessmentDetailView.as_view(),
        name="assessment-detail",
    ),
    path(
        "assessments/<int:pk>/scores/<str:node_code>/",
        views.SelfScoreSaveView.as_view(),
        name="assessment-score",
    ),
    path("results/", results_views.ResultYearsView.as_view(), name="result-years"),
    path(
        "results/<int:year>/",
        results_views.RankingView.as_view(),
        name="result-ranking",
    ),
    path(
        "results/<int:year>/units/<str:code>/",
        results_views.ExplanationView.as_view(),
        name="result-explanation",
    ),
    path(
        "results/<int:year>/runs/",
        results_views.RunListView.as_view(),
        name="result-runs",
    ),
    path(
        "results/<int:year>/runs/<int:run_id>/",
        results_views.RunDetailView.as_view(),
        name="result-run",
    ),
    path(
        "publications/<int:year>/<int:version>/",
        results_views.PublicationView.as_view(),
        name="publication-detail",
    ),
    path(
        "accountability-cases/",
        accountability_views.AccountabilityCaseListView.as_view(),
        name="accountability-case-list",
    ),
    path(
        "accountability-cases/<int:pk>/",
        accountability_views.AccountabilityCaseDetailView.as_view(),
        name="accountability-case-detail",
    ),
    path(
        "head-ratings/",
        accountability_views.HeadRatingListView.as_view(),
        name="head-rating-list",
    ),
    path(
        "head-ratings/<int:pk>/",
        accountability_views.HeadRatingDetailView.as_view(),
        name="head-rating-detail",
    ),
]
