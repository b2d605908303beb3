from django.urls import path

from onewindow.catalogue import views_workbench as views

app_name = "catalogue_workbench"
urlpatterns = [
    path("", views.items_view, name="items"),
    path("items/new/", views.item_create_view, name="item_create"),
    path("items/<int:pk>/", views.item_view, name="item"),
    path("items/<int:pk>/new-draft/", views.item_new_draft_view, name="item_new_draft"),
    path("versions/<int:pk>/", views.version_detail_view, name="version_detail"),
    path("versions/<int:pk>/edit/", views.version_edit_view, name="version_edit"),
    path("versions/<int:pk>/submit/", views.version_submit_view, name="version_submit"),
    path("versions/<int:pk>/discard/", views.version_discard_view, name="version_discard"),
    path("versions/<int:pk>/return/", views.version_return_view, name="version_return"),
    path("versions/<int:pk>/approve/", views.version_approve_view, name="version_approve"),
    path("versions/<int:pk>/schedule/", views.version_schedule_view, name="version_schedule"),
    path("versions/<int:pk>/unschedule/", views.version_unschedule_view, name="version_unschedule"),
    path("versions/<int:pk>/publish-urgent/", views.version_publish_urgent_view, name="version_publish_urgent"),
    path("batches/", views.batches_view, name="batches"),
    path("batches/<int:pk>/", views.batch_view, name="batch"),
    path("batches/<int:pk>/publish/", views.batch_publish_view, name="batch_publish"),
]
