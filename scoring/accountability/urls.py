from django.urls import URLPattern, URLResolver, path

from scoring.accountability import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("accountability/", views.case_list, name="accountability_list"),
    path("accountability/<int:pk>/", views.case_detail, name="accountability_detail"),
    path(
        "accountability/<int:pk>/explain/",
        views.case_explain,
        name="accountability_explain",
    ),
    path(
        "accountability/<int:pk>/decide/",
        views.case_decide,
        name="accountability_decide",
    ),
    path("ratings/", views.rating_list, name="rating_list"),
    path("ratings/<int:pk>/decide/", views.rating_decide, name="rating_decide"),
    path("ratings/confirm/", views.ratings_confirm, name="ratings_confirm"),
]
