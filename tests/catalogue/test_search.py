"""Chinese full-text search of the catalogue: words, ranking, fallback, filters, hostile input,
keeping the index in step with publication, and the reindex command."""

import io
import itertools

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from onewindow.accounts.choices import AccountKind
from onewindow.catalogue import search
from onewindow.catalogue.models import BasicItem, ImplementationItem, ItemVersion, SearchDocument, Theme
from onewindow.core.identifiers import make_uscc
from onewindow.core.services.regions import department_create, region_create

_codes = itertools.count(1)


@pytest.fixture
def places(db, make_user):
    province = region_create(actor=None, code="520000", name="贵州省", parent=None)
    city = region_create(actor=None, code="520300", name="遵义市", parent=province)

    def department(name, short_name, base):
        uscc = make_uscc("1", "1", city.code, base)
        return department_create(actor=None, name=name, short_name=short_name, uscc=uscc, region=city, parent=None)

    return {
        "city": city,
        "market": department("遵义市市场监督管理局", "市场监管局", "FT520301"),
        "housing": department("遵义市住房和城乡建设局", "住建局", "FT520302"),
        "civil": department("遵义市民政局", "民政局", "FT520303"),
        "editor": make_user("search-editor", kind=AccountKind.STAFF),
    }


@pytest.fixture
def make_item(places):
    """make_item(name, department=..., keywords=[...], conditions=..., materials=[...]) → a published
    item with its search document; the catalogue services do the same on publication."""

    def make(name, *, department="market", item_type="01", keywords=(), conditions="", materials=(),
             result_name="", themes=(), publish=True):
        n = next(_codes)
        basic = BasicItem.objects.create(
            basic_code=f"XK{n:08d}", name=name, item_type=item_type, exercise_level="3", legal_basis="法律"
        )
        dept = places[department]
        item = ImplementationItem.objects.create(
            basic_item=basic, impl_code=f"{dept.uscc}3XK{n:08d}", department=dept, region=places["city"],
            name=name, item_type=item_type,
        )
        content = {
            "name": name,
            "item_type": item_type,
            "keywords": list(keywords),
            "conditions": conditions,
            "materials": [{"key": f"m{i}", "name": m} for i, m in enumerate(materials)],
            "result_name": result_name,
            "themes": list(themes),
        }
        version = ItemVersion.objects.create(
            item=item, number=1, status="published" if publish else "draft", content=content,
            content_sha256="0" * 64, created_by=places["editor"],
        )
        if publish:
            item.current_version = version
            item.save(update_fields=["current_version"])
        search.index_item(item)
        return item

    return make


def ids(query, **kwargs):
    return search.search_ids(query, **kwargs).ids


def test_tokens_cut_long_words_into_their_parts_too():
    search.warm_up()
    assert search.tokens("营业执照") == ["营业", "执照", "营业执照"]
    assert search.tokens("老年人优待证") == ["老年", "老年人", "优待", "优待证"]
    # Single characters jieba keeps as words stay; punctuation, spaces and emoji go.
    assert search.tokens("老年证") == ["老年", "证"]
    assert search.tokens("“营业执照”， 😀 ") == ["营业", "执照", "营业执照"]
    # ASCII is lower-cased; full-width letters and digits fold to ASCII.
    assert search.tokens("ICP 备案") == ["icp", "备案"]
    assert search.tokens("ＩＣＰ１２３") == ["icp123"]
    assert search.tokens("") == []
    assert search.query_terms("营业执照 营业执照") == ["营业", "执照", "营业执照"]


def test_business_licence_ranks_title_matches_above_body_matches(make_item):
    body_only = make_item("食品经营许可", materials=["营业执照复印件", "食品安全管理制度"])
    short = make_item("个体工商户营业执照核发", conditions="从事个体工商业经营的自然人。")
    longer = make_item("个体工商户营业执照变更登记", conditions="个体工商户登记事项变更。")
    make_item("老年人优待证办理", department="civil")

    page = search.search_ids("营业执照")
    assert set(page.ids[:2]) == {short.pk, longer.pk}
    assert page.ids[2:] == [body_only.pk]
    assert page.total == 3
    assert not page.partial
    # The department's short name is searchable too.
    assert set(ids("市场监管局")) == {body_only.pk, short.pk, longer.pk}


def test_colloquial_name_found_through_its_keyword(make_item):
    with_keyword = make_item("老年人优待证办理", department="civil", keywords=["老年证", "敬老卡"])
    make_item("残疾人证办理", department="civil")
    make_item("户外广告设置许可")

    page = search.search_ids("老年证")
    assert page.ids[0] == with_keyword.pk
    assert not page.partial
    assert ids("敬老卡") == [with_keyword.pk]


def test_or_fallback_ranks_the_rarer_word_first(make_item):
    # 老年人优待证 is cut into 老年 老年人 优待 优待证: no single 证, so 老年 AND 证 finds nothing.
    elderly = make_item("老年人优待证办理", department="civil")
    disabled = make_item("残疾人证办理", department="civil")
    make_item("残疾人证换领", department="civil")
    make_item("残疾人证迁移", department="civil")
    make_item("户外广告设置许可")

    page = search.search_ids("老年证")
    assert page.partial
    assert page.ids[0] == elderly.pk
    assert disabled.pk in page.ids


def test_construction_permit(make_item):
    permit = make_item(
        "建设工程施工许可",
        department="housing",
        materials=["建设工程施工许可申请表", "建设用地规划许可证"],
        result_name="建筑工程施工许可证",
    )
    make_item("建设工程消防设计审查", department="housing")
    make_item("食品经营许可")

    page = search.search_ids("施工许可")
    assert page.ids == [permit.pk]
    assert search.search_ids("建筑工程施工许可证").ids == [permit.pk]


def test_filters_apply_through_the_queryset(make_item, places):
    market = make_item("个体工商户营业执照核发")
    housing = make_item("建筑业企业资质核准", department="housing", materials=["营业执照"])
    published = ImplementationItem.objects.filter(current_version__isnull=False)

    assert ids("营业执照", queryset=published) == [market.pk, housing.pk]
    assert ids("营业执照", queryset=published.filter(department=places["housing"])) == [housing.pk]
    assert ids("营业执照", queryset=published.filter(item_type="20")) == []
    assert search.search_ids("营业执照", queryset=published.none()) == search.SearchPage(ids=[], total=0)
    # Filters through joins and distinct (themes, lists) work as subqueries too.
    theme = Theme.objects.create(code="kaidian", name="我要开店", audience="enterprise")
    market.themes.add(theme)
    themed = published.filter(themes__audience="enterprise").distinct()
    assert ids("营业执照", queryset=themed) == [market.pk]


@pytest.mark.parametrize("small_scope", [0, 2000])
def test_large_and_small_filters_give_the_same_results(make_item, places, monkeypatch, small_scope):
    # Past SMALL_SCOPE items a filter is tested per match instead of read into a list.
    monkeypatch.setattr(search, "SMALL_SCOPE", small_scope)
    theme = Theme.objects.create(code="kaidian", name="我要开店", audience="enterprise")
    market = make_item("个体工商户营业执照核发", themes=["kaidian"])
    market.themes.add(theme)
    housing = make_item("建筑业企业资质核准", department="housing", materials=["营业执照"])
    assert ids("开店") == [market.pk]  # theme names are searchable
    published = ImplementationItem.objects.filter(current_version__isnull=False)
    assert ids("营业执照", queryset=published.filter(department=places["housing"])) == [housing.pk]
    assert ids("营业执照", queryset=published.filter(themes__audience="enterprise").distinct()) == [market.pk]
    assert ids("营业执照", queryset=published.exclude(department=places["civil"])) == [market.pk, housing.pk]
    assert search.search_ids("营业执照", queryset=published.filter(item_type="20")).total == 0


def test_paging_and_total(make_item):
    made = [make_item(f"营业执照{'补' * i}办") for i in range(5)]
    first = search.search_ids("营业执照", limit=2)
    second = search.search_ids("营业执照", limit=2, offset=2)
    assert first.total == second.total == 5
    assert first.ids + second.ids == [m.pk for m in made[:4]]
    assert search.search_ids("营业执照", limit=2, offset=10) == search.SearchPage(ids=[], total=5)


def test_pages_run_on_from_name_matches_into_body_matches(make_item):
    named = [make_item(f"个体工商户营业执照{suffix}") for suffix in ("核发", "变更登记", "注销登记")]
    body = [make_item(name, materials=["营业执照复印件"]) for name in ("食品经营许可", "药品零售许可")]
    everything = search.search_ids("营业执照", limit=10).ids
    assert set(everything[:3]) == {m.pk for m in named}
    assert set(everything[3:]) == {m.pk for m in body}
    one_by_one = [pk for offset in range(6) for pk in search.search_ids("营业执照", limit=1, offset=offset).ids]
    assert one_by_one == everything
    assert [pk for offset in (0, 2, 4) for pk in search.search_ids("营业执照", limit=2, offset=offset).ids] == everything


def test_totals_stop_at_the_cap(make_item, monkeypatch):
    for i in range(4):
        make_item(f"营业执照{'补' * i}办")
    monkeypatch.setattr(search, "MAX_TOTAL", 3)
    page = search.search_ids("营业执照", limit=10)
    assert (page.total, page.exact, len(page.ids)) == (3, False, 3)
    assert search.search_ids("营业执照", offset=3).ids == []


@pytest.mark.parametrize(
    "query",
    [
        '"', '""', "'", "AND", "OR", "NOT", "*", "营业执照 OR", "营业执照 AND NOT", "NEAR(营业 执照)",
        "title:营业执照", "{title}: x", "^营业", "营业*", "(", ")", "a & b | !c", "\\", "%", "%s", "_",
        "😀🏢", "\x00", "\ud800", "🈶证", "a" * 1000, "营业执照" * 250, "；；；", "-营业执照", "营业执照:*",
        "'营业' & !'执照'", "DROP TABLE catalogue_searchdocument; --", "〇", "Ⅷ", "²", "①", "𠀀𠀁", "ก่", "한국어",
        "カタカナ", "e\u0301", " ".join(f"词{i}" for i in range(40)),
    ],
)
def test_hostile_queries_never_raise(make_item, query):
    make_item("个体工商户营业执照核发")
    page = search.search_ids(query)
    assert page.total >= len(page.ids)


def test_body_uses_the_chinese_labels_whatever_the_language(make_item):
    with translation.override("en"):
        item = make_item("户外广告设置许可", item_type="20")
    assert ids("公共服务") == [item.pk]


def test_blank_query_searches_nothing(make_item):
    make_item("个体工商户营业执照核发")
    for query in ("", "   ", "，。！", "😀", None):
        assert search.query_terms(query) == []
        assert search.search_ids(query) == search.SearchPage(ids=[], total=0)


def test_index_follows_the_current_version(make_item, places):
    item = make_item("个体工商户营业执照核发")
    assert ids("营业执照") == [item.pk]

    new = ItemVersion.objects.create(
        item=item, number=2, status="published", content={**item.current_version.content, "name": "老年人优待证办理"},
        content_sha256="1" * 64, created_by=places["editor"],
    )
    item.current_version = new
    item.save(update_fields=["current_version"])
    search.index_item(item)
    assert ids("营业执照") == []
    assert ids("优待证") == [item.pk]

    # Indexing the same content again changes nothing.
    search.index_item(item)
    assert SearchDocument.objects.filter(item=item).count() == 1
    assert ids("优待证") == [item.pk]


def test_unpublished_and_removed_items_are_not_found(make_item):
    draft = make_item("个体工商户营业执照核发", publish=False)
    assert not SearchDocument.objects.filter(item=draft).exists()
    item = make_item("个体工商户营业执照变更")
    assert ids("营业执照") == [item.pk]

    search.remove_item(item)
    assert ids("营业执照") == []
    assert search.search_ids("营业执照").total == 0

    make_item("个体工商户营业执照注销")
    item.current_version = None
    item.save(update_fields=["current_version"])
    search.index_item(item)
    assert item.pk not in ids("营业执照")


def test_reindex_command_rebuilds_every_document(make_item):
    item = make_item("个体工商户营业执照核发", keywords=["开店"])
    withdrawn = make_item("个体工商户营业执照注销")
    withdrawn.current_version = None
    withdrawn.save(update_fields=["current_version"])  # no index_item: the command tidies up
    SearchDocument.objects.filter(item=item).update(title="", keywords="", body="")
    assert ids("营业执照") == [withdrawn.pk]

    out = io.StringIO()
    call_command("catalogue_reindex", "--batch", "1", "--rebuild-index", stdout=out)
    assert "更新 1 个" in out.getvalue() and "移除 1 个" in out.getvalue()
    assert ids("营业执照") == [item.pk]
    assert ids("开店") == [item.pk]

    out = io.StringIO()
    call_command("catalogue_reindex", stdout=out)
    assert "更新 0 个，未变 1 个" in out.getvalue()


def test_full_text_index_is_used(make_item):
    make_item("个体工商户营业执照核发")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "EXPLAIN QUERY PLAN SELECT rowid FROM catalogue_search_fts WHERE catalogue_search_fts MATCH ?",
                ['"营业执照"'],
            )
            plan = " ".join(str(row) for row in cursor.fetchall())
            assert "VIRTUAL TABLE INDEX" in plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
            cursor.execute(
                "EXPLAIN SELECT item_id FROM catalogue_searchdocument "
                "WHERE search_vector @@ plainto_tsquery('simple', %s)",
                ["营业执照"],
            )
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "catalogue_search_vector_gin" in plan
