from django.urls import path

from onewindow.cases import views_joint_workbench as joint_views
from onewindow.cases import views_workbench as views

app_name = "cases_workbench"
urlpatterns = [
    path("", views.home_view, name="home"),
    path("counters/", views.counters_view, name="counters"),
    path("queues/<slug:name>/", views.queue_view, name="queue"),
    path("joint/", joint_views.queue_view, name="joint_queue"),
    path("joint/<int:pk>/", joint_views.joint_view, name="joint"),
    path("joint/<int:pk>/actions/<slug:action>/", joint_views.action_view, name="joint_action"),
    path("intake/", views.intake_view, name="intake"),
    path("intake/<int:pk>/", views.intake_case_view, name="intake_case"),
    path("intake/<int:pk>/remove/", views.intake_detach_view, name="intake_detach"),
    path("<int:pk>/", views.case_view, name="case"),
    path("<int:pk>/actions/<slug:action>/", views.case_action_view, name="case_action"),
    path("<int:pk>/materials/<int:material_pk>/preview/", views.material_preview_view, name="material_preview"),
    path("<int:pk>/documents/<int:document_pk>/pdf/", views.document_pdf_view, name="document_pdf"),
    path("<int:pk>/archive-package/", views.archive_export_view, name="archive_export"),
]
