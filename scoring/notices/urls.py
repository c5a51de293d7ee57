from django.urls import URLPattern, URLResolver, path

from scoring.notices import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:pk>/read/", views.notice_read, name="notice_read"),
    path("notices/read-all/", views.notices_read_all, name="notices_read_all"),
    path("notices/settings/", views.notice_settings, name="notice_settings"),
    path(
        "assessments/not-started/",
        views.assessments_not_started,
        name="assessments_not_started",
    ),
]
