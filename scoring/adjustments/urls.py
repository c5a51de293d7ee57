from django.urls import URLPattern, URLResolver, path

from scoring.adjustments import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("adjustments/", views.adjustment_list, name="adjustment_list"),
    path("adjustments/new/", views.adjustment_new, name="adjustment_new"),
    path(
        "adjustments/approve/",
        views.adjustments_approve,
        name="adjustments_approve",
    ),
    path("adjustments/<int:pk>/", views.adjustment_detail, name="adjustment_detail"),
    path(
        "adjustments/<int:pk>/decide/",
        views.adjustment_decide,
        name="adjustment_decide",
    ),
    path(
        "frameworks/<int:pk>/adjustment-rules/",
        views.adjustment_rules,
        name="adjustment_rules",
    ),
    path(
        "frameworks/<int:pk>/adjustment-rules/<int:rule_pk>/edit/",
        views.adjustment_rule_edit,
        name="adjustment_rule_edit",
    ),
    path(
        "frameworks/<int:pk>/adjustment-rules/<int:rule_pk>/delete/",
        views.adjustment_rule_delete,
        name="adjustment_rule_delete",
    ),
    path("criterion-ranks/", views.criterion_rank_list, name="criterion_rank_list"),
    path(
        "criterion-ranks/new/",
        views.criterion_rank_new,
        name="criterion_rank_new",
    ),
    path(
        "criterion-ranks/<int:pk>/edit/",
        views.criterion_rank_edit,
        name="criterion_rank_edit",
    ),
    path(
        "criterion-ranks/<int:pk>/delete/",
        views.criterion_rank_delete,
        name="criterion_rank_delete",
    ),
]
