"""The applicant portal for cases (mounted at /cases/)."""

from django.urls import path

from onewindow.cases import views, views_joint
from onewindow.catalogue import urls as catalogue_urls  # noqa: F401  (registers the ow_impl_code converter)

app_name = "cases"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("apply/<ow_impl_code:impl_code>/", views.apply, name="apply"),
    path("progress/", views.progress, name="progress"),
    path("agent/new/", views.agent_file, name="agent_file"),
    path("mine/<int:pk>/", views.detail, name="detail"),
    path("mine/<int:pk>/edit/", views.draft, name="draft"),
    path("mine/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("mine/<int:pk>/materials/", views.materials, name="materials"),
    path("mine/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("mine/<int:pk>/documents/<int:document_pk>/", views.document, name="document"),
    path("joint/", views_joint.offered, name="joint_offered"),
    path("joint/apply/<str:code>/", views_joint.apply, name="joint_apply"),
    path("joint/mine/<int:pk>/", views_joint.joint, name="joint"),
]
