from django.urls import path

from onewindow.cases.consumers import CaseCountersConsumer

websocket_urlpatterns = [
    path("ws/workbench/cases/", CaseCountersConsumer.as_asgi()),
]
