"""Analytics on the web (mounted at /analytics/)."""

from django.urls import path

from onewindow.analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("screen/", views.screen_view, name="screen"),
    path("export.csv", views.export_view, {"fmt": "csv"}, name="export_csv"),
    path("export.xlsx", views.export_view, {"fmt": "xlsx"}, name="export_xlsx"),
    path("open-data.csv", views.open_data_view, name="open_data"),
]
