from django.urls import path

from commitments import views

urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("units/<str:code>/", views.unit_detail, name="unit_detail"),
    path("heads/", views.head_list, name="head_list"),
]
