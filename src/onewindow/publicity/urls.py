"""Publicity on the web (mounted at /publicity/)."""

from django.urls import path

from onewindow.publicity import feeds, views

app_name = "publicity"
urlpatterns = [
    path("", views.index, name="index"),
    path("decisions/", views.decisions, name="decisions"),
    path("decisions/feed/", feeds.DecisionFeed(), name="feed"),
    path("decisions/<int:pk>/", views.decision, name="decision"),
    path("data/", views.datasets, name="datasets"),
    path("data/<slug:slug>.<str:fmt>", views.dataset, name="dataset"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:pk>/publish/", views.publish, name="publish"),
]
