from django.urls import path

from procedures import views

urlpatterns = [
    path("units/<str:code>/metrics/", views.unit_metrics, name="unit_metrics"),
    path("metrics/export.csv", views.metrics_csv, name="metrics_csv"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
    path("cases/late/", views.late_case_list, name="late_cases"),
    path("cases/late/export.csv", views.late_case_csv, name="late_cases_csv"),
    path("reminders/", views.reminder_list, name="reminder_list"),
    # The address predates withdrawal with a reason; the reminder is kept,
    # marked withdrawn, not deleted.
    path(
        "reminders/<int:pk>/delete/",
        views.reminder_withdraw,
        name="reminder_withdraw",
    ),
    path("repeated-lateness/", views.repeated_lateness, name="repeated_lateness"),
]
