"""The licence library on the web (mounted at /licences/)."""

from django.urls import path

from onewindow.licences import views, views_department

app_name = "licences"
urlpatterns = [
    path("mine/", views.mine_view, name="mine"),
    path("mine/<str:number>/", views.detail_view, name="detail"),
    path("mine/<str:number>/pdf/", views.pdf_view, name="pdf"),
    path("mine/<str:number>/data/", views.data_view, name="data"),
    path("mine/<str:number>/share/", views.share_view, name="share"),
    path("verify/", views.verify_view, name="verify"),
    path("verify/<str:number>/", views.verify_number_view, name="verify_number"),
    path("lookup/", views.lookup_view, name="lookup"),
    path("department/", views_department.list_view, name="department"),
    path(
        "department/issue/<slug:code>/",
        views_department.issue_view,
        name="department_issue",
    ),
    path(
        "department/<str:number>/",
        views_department.detail_view,
        name="department_detail",
    ),
    path(
        "department/<str:number>/<slug:action>/",
        views_department.status_view,
        name="department_status",
    ),
]
