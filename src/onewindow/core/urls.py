from django.urls import path

from onewindow.core import views
from onewindow.core import views_files, views_inbox

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("files/<slug:token>/", views_files.download, name="file_download"),
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", views_inbox.mark_read, name="inbox_mark_read"),
    path("inbox/read-all/", views_inbox.mark_all_read, name="inbox_mark_all_read"),
    path("inbox/unread-count/", views_inbox.unread_badge, name="inbox_unread_count"),
    path("workbench/", views.workbench_home, name="workbench"),
    path("supervision/", views.supervision_home, name="supervision"),
]
