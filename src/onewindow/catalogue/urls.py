"""The public catalogue on the portal (mounted at /catalogue/)."""

from django.urls import path, register_converter

from onewindow.catalogue import views


class ImplCodeConverter:
    """An implementation code as the catalogue stores them (digits, letters, hyphens)."""

    regex = r"[0-9A-Za-z-]{1,36}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value


register_converter(ImplCodeConverter, "ow_impl_code")

app_name = "catalogue"
urlpatterns = [
    path("", views.index, name="index"),
    path("lists/<slug:code>/", views.list_view, name="list"),
    path("items/<ow_impl_code:impl_code>/", views.item, name="item"),
    path("items/<ow_impl_code:impl_code>/guide.pdf", views.item_pdf, name="item_pdf"),
    path("items/<ow_impl_code:impl_code>/flowchart.svg", views.flowchart, name="flowchart"),
    path("items/<ow_impl_code:impl_code>/history/", views.history, name="history"),
    path("items/<ow_impl_code:impl_code>/files/<slug:token>/", views.guide_file, name="guide_file"),
    path("items/<ow_impl_code:impl_code>/v<int:number>/", views.version, name="version"),
]
