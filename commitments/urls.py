from django.urls import path

from commitments import print_views
from commitments import unit_views as views
from commitments import views as cv

urlpatterns = [
    path("todo/counts/", views.todo_counts_json, name="todo_counts"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/<str:code>/", views.unit_detail, name="unit_detail"),
    path("heads/", views.head_list, name="head_list"),
    path("commitments/", cv.commitment_list, name="commitment_list"),
    path("commitments/new/", cv.commitment_create, name="commitment_create"),
    path("commitments/progress/", cv.target_progress, name="target_progress"),
    path("commitments/<int:pk>/", cv.commitment_detail, name="commitment_detail"),
    path("commitments/<int:pk>/sign/", cv.commitment_sign, name="commitment_sign"),
    path(
        "commitments/<int:pk>/countersign/",
        cv.commitment_countersign,
        name="commitment_countersign",
    ),
    path(
        "commitments/<int:pk>/print/",
        print_views.commitment_print,
        name="commitment_print",
    ),
    path(
        "commitments/<int:pk>/pdf/", print_views.commitment_pdf, name="commitment_pdf"
    ),
    path("commitments/<int:pk>/scan/", cv.commitment_scan, name="commitment_scan"),
    path("commitments/<int:pk>/targets/new/", cv.target_edit, name="target_new"),
    path(
        "commitments/<int:pk>/targets/<int:target_pk>/edit/",
        cv.target_edit,
        name="target_edit",
    ),
    path(
        "commitments/<int:pk>/targets/<int:target_pk>/delete/",
        cv.target_delete,
        name="target_delete",
    ),
    path(
        "commitments/<int:pk>/targets/<int:target_pk>/report/",
        cv.target_report,
        name="target_report",
    ),
    path(
        "commitments/<int:pk>/targets/<int:target_pk>/check/",
        cv.target_check,
        name="target_check",
    ),
]
