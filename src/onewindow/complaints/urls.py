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
    path("topics/", views.topics, name="topics"),
    path("topics/new/", views.topic_new, name="topic_new"),
    path("topics/<int:pk>/", views.topic_edit, name="topic_edit"),
    path("topics/<int:pk>/active/", views.topic_active, name="topic_active"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/move/", views.rule_move, name="rule_move"),
    path("rules/<int:pk>/active/", views.rule_active, name="rule_active"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
