from django.urls import include, path

urlpatterns = [
    path("", include("scoring.urls_frameworks")),
    path("", include("scoring.urls_assessments")),
    path("", include("scoring.urls_notices")),
    path("", include("scoring.urls_results")),
    path("", include("scoring.urls_adjustments")),
    path("", include("scoring.urls_accountability")),
    path("", include("scoring.urls_dashboard")),
]
