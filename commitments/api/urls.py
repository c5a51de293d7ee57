from django.urls import URLPattern, URLResolver, path

from commitments.api import actions, views

app_name = "commitments_api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("indicators/", views.IndicatorListView.as_view(), name="indicator-list"),
    path("commitments/", views.CommitmentListView.as_view(), name="commitment-list"),
    path(
        "commitments/<int:pk>/",
        views.CommitmentDetailView.as_view(),
        name="commitment-detail",
    ),
    path(
        "commitments/<int:pk>/targets/",
        actions.TargetAddView.as_view(),
        name="commitment-target-add",
    ),
    path(
        "commitments/<int:pk>/targets/<int:target_id>/",
        actions.TargetView.as_view(),
        name="commitment-target",
    ),
    path(
        "commitments/<int:pk>/targets/<int:target_id>/report/",
        actions.ReportView.as_view(),
        name="commitment-target-report",
    ),
    path(
        "commitments/<int:pk>/targets/<int:target_id>/check/",
        actions.CheckView.as_view(),
        name="commitment-target-check",
    ),
    path(
        "commitments/<int:pk>/sign/",
        actions.SignView.as_view(),
        name="commitment-sign",
    ),
    path(
        "commitments/<int:pk>/countersign/",
        actions.CountersignView.as_view(),
        name="commitment-countersign",
    ),
    path("targets/", views.TargetListView.as_view(), name="target-list"),
]
