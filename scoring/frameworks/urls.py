from django.urls import URLPattern, URLResolver, path

from scoring.frameworks import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("frameworks/", views.framework_list, name="framework_list"),
    path("frameworks/new/", views.framework_new, name="framework_new"),
    path("frameworks/import/", views.framework_import, name="framework_import"),
    path(
        "frameworks/survey-figures/",
        views.survey_figures,
        name="survey_figures",
    ),
    path(
        "frameworks/survey-figures/confirm/",
        views.survey_figures_confirm,
        name="survey_figures_confirm",
    ),
    path(
        "frameworks/template.xlsx",
        views.framework_template,
        name="framework_template",
    ),
    path("frameworks/<int:pk>/", views.framework_detail, name="framework_detail"),
    path(
        "frameworks/<int:pk>/export.xlsx",
        views.framework_export,
        name="framework_export",
    ),
    path(
        "frameworks/<int:pk>/settings/",
        views.framework_settings,
        name="framework_settings",
    ),
    path("frameworks/<int:pk>/tiers/", views.framework_tiers, name="framework_tiers"),
    path(
        "frameworks/<int:pk>/thresholds/",
        views.framework_thresholds,
        name="framework_thresholds",
    ),
    path("frameworks/<int:pk>/close/", views.framework_close, name="framework_close"),
    path("frameworks/<int:pk>/copy/", views.framework_copy, name="framework_copy"),
    path("frameworks/<int:pk>/open/", views.framework_open, name="framework_open"),
    path(
        "frameworks/<int:pk>/items/new/",
        views.node_new,
        name="framework_node_new",
    ),
    path(
        "frameworks/<int:pk>/items/<int:node_pk>/edit/",
        views.node_edit,
        name="framework_node_edit",
    ),
    path(
        "frameworks/<int:pk>/items/<int:node_pk>/delete/",
        views.node_delete,
        name="framework_node_delete",
    ),
]
