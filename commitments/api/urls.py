from django.urls import URLPattern, URLResolver, path

from commitments.api import views

app_name = "commitments_api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("indicators/", views.IndicatorListView.as_view(), name="indicator-list"),
    path("commitments/", views.CommitmentListView.as_view(), name="commitment-list"),
    path(
        "commitments/<int:pk>/",
        views.CommitmentDetailView.as_view(),
        name="commitment-detail",
    ),
    path("targets/", views.TargetListView.as_view(), name="target-list"),
]
