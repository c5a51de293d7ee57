from django.urls import path

from procedures import views

urlpatterns = [
    path("units/<str:code>/metrics/", views.unit_metrics, name="unit_metrics"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
]
