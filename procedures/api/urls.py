from django.urls import path

from procedures.api import reminders, views

app_name = "procedures_api"

urlpatterns = [
    path("cases/", views.CaseListView.as_view(), name="case-list"),
    path("metrics/", views.UnitMetricListView.as_view(), name="metric-list"),
    # Before the detail route, which would otherwise take "batch" for a code.
    path("cases/batch/", views.CasePushView.as_view(), name="case-push"),
    path("reminders/", reminders.ReminderIssueView.as_view(), name="reminder-issue"),
    path(
        "reminders/<int:pk>/withdraw/",
        reminders.ReminderWithdrawView.as_view(),
        name="reminder-withdraw",
    ),
    # <path:…>: some one-stop systems put slashes in their case codes.
    path("cases/<path:case_code>/", views.CaseDetailView.as_view(), name="case-detail"),
]
