"""The Atom feed of published decisions (the newest 50): public fields only."""

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from onewindow.publicity import selectors
from onewindow.publicity.models import Publication


class DecisionFeed(Feed):
    feed_type = Atom1Feed
    title = _("行政许可和行政处罚结果公示")
    subtitle = _("依法公示的行政许可和行政处罚决定")

    def link(self) -> str:
        return reverse("publicity:decisions")

    def items(self) -> list[Publication]:
        return list(selectors.published()[:50])

    def item_title(self, item: Publication) -> str:
        return f"【{item.get_kind_display()}】{item.title} {item.holder_name}"

    def item_description(self, item: Publication) -> str:
        return f"{item.content}（{item.department.name}，{item.decided_on:%Y-%m-%d}，{item.decision_number}）"

    def item_link(self, item: Publication) -> str:
        return reverse("publicity:decision", args=[item.pk])

    def item_pubdate(self, item: Publication):
        return item.published_at

    def item_updateddate(self, item: Publication):
        return item.updated_at
