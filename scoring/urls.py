from django.urls import include, path

urlpatterns = [
    path("", include("scoring.frameworks.urls")),
    path("", include("scoring.assessments.urls")),
    path("", include("scoring.notices.urls")),
    path("", include("scoring.results.urls")),
    path("", include("scoring.adjustments.urls")),
    path("", include("scoring.accountability.urls")),
    path("", include("scoring.dashboard.urls")),
]
