"""Search relevance on the demo catalogue: what citizens type finds what they mean, first."""

import pytest

from onewindow.accounts import demo as accounts_demo
from onewindow.catalogue import demo as catalogue_demo
from onewindow.catalogue.selectors import CatalogueFilters, public_items, published_composites
from onewindow.core import demo_regions

# query → the item name that must come first (or, for a set, the names the first results must hold)
EXPECTED_FIRST = {
    "老年证": "老年人优待证办理",
    "施工许可": "建筑工程施工许可证核发",
    "低保": "最低生活保障审核确认",
    "户口迁移": "户口迁入登记",
    "社保卡": "社会保障卡申领",
    "结婚": "内地居民结婚登记",
    "排水许可": "城镇污水排入排水管网许可",
    "网约车": "网络预约出租汽车驾驶员证核发",
}
EXPECTED_TOP = {
    "营业执照": ({"个体工商户登记", "公司设立登记"}, 3),
    "食品经营许可证": ({"食品经营许可"}, 2),
    "不动产": ({"国有建设用地使用权及房屋所有权转移登记"}, 1),
}


def _names(query: str, n: int) -> list[str]:
    return [item.name for item in public_items(CatalogueFilters(q=query), limit=n).items]


@pytest.mark.django_db
def test_demo_catalogue_search_relevance():
    demo_regions.load()
    accounts_demo.load()
    assert catalogue_demo.load()["published"] >= 34
    # The demo "one thing" services are composed of those items and offered at once.
    offered = {c.code: [m.item.name for m in c.members.all()] for c in published_composites()}
    assert offered == {"YJS-KBQY": ["公司设立登记", "发票领用", "就业登记"],
                       "YJS-XSECS": ["生育登记", "户口迁入登记", "社会保障卡申领"]}
    wrong = {}
    for query, first in EXPECTED_FIRST.items():
        found = _names(query, 3)
        if not found or found[0] != first:
            wrong[query] = found
    for query, (names, within) in EXPECTED_TOP.items():
        found = _names(query, within)
        if not names <= set(found):
            wrong[query] = found
    assert wrong == {}
    # Loading again changes nothing.
    assert catalogue_demo.load() == {"published": 0, "skipped": len(catalogue_demo.demo_document()["items"]),
                                     "composites": 0}
