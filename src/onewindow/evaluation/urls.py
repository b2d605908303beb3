"""Evaluation on the web (mounted at /evaluation/)."""

from django.urls import path

from onewindow.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("cases/<int:pk>/", views.rate_case, name="rate_case"),
    path("visits/<str:token>/", views.rate_visit, name="rate_visit"),
    path("tablet/<int:pk>/", views.tablet, name="tablet"),
    path("mine/", views.mine, name="mine"),
    path("satisfaction/", views.public_figures, name="public_figures"),
    path("rectifications/", views.rectification_list, name="rectifications"),
    path("rectifications/<int:pk>/", views.rectification_detail, name="rectification"),
    path(
        "rectifications/<int:pk>/<slug:action>/",
        views.rectification_action,
        name="rectification_action",
    ),
    path("figures/", views.figures, name="figures"),
]
