"""Consultations and complaints on the web (mounted at /complaints/)."""

from django.urls import path

from onewindow.complaints import views

app_name = "complaints"
urlpatterns = [
    path("new/", views.new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:pk>/", views.my_detail, name="my_detail"),
    path("mine/<int:pk>/<slug:action>/", views.my_action, name="my_action"),
    path("progress/", views.progress, name="progress"),
    path("exposure/", views.exposure, name="exposure"),
    path("hotline/", views.hotline, name="hotline"),
    path("work/", views.work, name="work"),
    path("work/<int:pk>/", views.work_detail, name="work_detail"),
    path("work/<int:pk>/<slug:action>/", views.work_action, name="work_action"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
