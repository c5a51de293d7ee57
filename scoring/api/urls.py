from django.urls import URLPattern, URLResolver, path

from scoring.api import views

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
]
