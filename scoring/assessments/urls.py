from django.urls import URLPattern, URLResolver, path

from scoring.assessments import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("assessments/", views.assessment_list, name="assessment_list"),
    path(
        "assessments/start/<int:framework_pk>/<str:code>/",
        views.assessment_start,
        name="assessment_start",
    ),
    path(
        "assessments/provisional/<int:framework_pk>/",
        views.provisional_open,
        name="provisional_open",
    ),
    path(
        "assessments/evidence/<uuid:token>/",
        views.evidence_download,
        name="evidence_download",
    ),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment_detail"),
    path(
        "assessments/<int:pk>/scores/<int:score_pk>/",
        views.score_save,
        name="score_save",
    ),
    path(
        "assessments/<int:pk>/scores/<int:score_pk>/evidence/",
        views.score_evidence,
        name="score_evidence",
    ),
    path(
        "assessments/<int:pk>/scores/<int:score_pk>/contest/",
        views.contest_raise,
        name="contest_raise",
    ),
    path(
        "assessments/<int:pk>/scores/<int:score_pk>/appraise/",
        views.score_appraise,
        name="score_appraise",
    ),
    path(
        "assessments/<int:pk>/documents/",
        views.evidence_upload,
        name="evidence_upload",
    ),
    path(
        "assessments/<int:pk>/documents/<int:document_pk>/delete/",
        views.evidence_delete,
        name="evidence_delete",
    ),
    path(
        "assessments/<int:pk>/submit/",
        views.assessment_submit,
        name="assessment_submit",
    ),
    path(
        "assessments/<int:pk>/comments/<int:comment_pk>/answer/",
        views.comment_answer,
        name="comment_answer",
    ),
    path(
        "assessments/<int:pk>/appraise/",
        views.assessment_appraise,
        name="assessment_appraise",
    ),
    path("assessments/<int:pk>/accept/", views.scores_accept, name="scores_accept"),
    path(
        "assessments/<int:pk>/return/",
        views.assessment_return,
        name="assessment_return",
    ),
    path(
        "assessments/<int:pk>/approve/",
        views.assessment_approve,
        name="assessment_approve",
    ),
    path("assessments/<int:pk>/extend/", views.extension_grant, name="extension_grant"),
    path(
        "assessments/<int:pk>/contests/<int:contest_pk>/decide/",
        views.contest_decide,
        name="contest_decide",
    ),
    path(
        "assessments/<int:pk>/history/",
        views.assessment_history,
        name="assessment_history",
    ),
]
