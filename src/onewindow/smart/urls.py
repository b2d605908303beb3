from django.urls import path

from onewindow.smart import views

app_name = "smart"
urlpatterns = [
    path("", views.items_view, name="items"),
    path("items/<int:pk>/", views.item_view, name="item"),
    path("items/<int:pk>/start/", views.start_view, name="start"),
    path("rule-sets/<int:pk>/save/", views.save_view, name="save"),
    path("rule-sets/<int:pk>/publish/", views.publish_view, name="publish"),
    path("rule-sets/<int:pk>/discard/", views.discard_view, name="discard"),
]
