"""The catalogue in the staff workbench: who may open which screen, the guide editor, and a
version's way through legal review to publication, driven through the screens."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts import services as account_services
from onewindow.accounts.choices import Role
from onewindow.accounts.models import User
from onewindow.catalogue import services
from onewindow.catalogue.choices import BatchKind, BatchStatus, VersionStatus
from onewindow.catalogue.models import ImplementationItem, ItemVersion, PublicationBatch
from onewindow.core.models import Department
from onewindow.core.testing.access_matrix import AccessCase, assert_access_matrix

from .conftest import edit_url, editor_data, form_data, page_text, save

BASIC_CODE = "XK99901000"
STANDARD = {
    "name": "户外广告设施设置审批",
    "item_type": "01",
    "legal_basis": "《城市市容和环境卫生管理条例》第十一条",
    "exercise_level": "3",
    "legal_limit": {"amount": 20, "unit": "working_day"},
    "conditions": "设置地点符合本市户外广告设施设置规划。",
    "materials": [{"key": "application", "name": "户外广告设施设置申请表"}],
}


# --- the editor's pages ---------------------------------------------------------------------


def detail_url(version) -> str:
    return reverse("catalogue_workbench:version_detail", args=[version.pk])


def action_url(name: str, version) -> str:
    return reverse(f"catalogue_workbench:version_{name}", args=[version.pk])


# --- people, a basic item and a draft ------------------------------------------------------------


@pytest.fixture
def people(demo_data):
    """The demo staff and citizen, and an administrator of another department."""
    users = {user.username: user for user in User.objects.all()}
    housing = Department.objects.get(name="遵义市住房和城乡建设局")
    other = account_services.staff_create(
        actor=users["admin"], department=housing, username="housingadmin", password="Kq7#tower-lantern",
        real_name="何平", phone="19900000301",
    )
    account_services.role_grant(actor=users["admin"], user=other, role=Role.DEPARTMENT_ADMIN, department=housing)
    TOTPDevice.objects.create(user=other, name="app", confirmed=True)
    users["housingadmin"] = User.objects.get(pk=other.pk)
    return users


@pytest.fixture
def market():
    return Department.objects.get(name="遵义市市场监督管理局")


@pytest.fixture
def basic(people):
    return services.basic_item_create(actor=people["admin"], basic_code=BASIC_CODE, standard=STANDARD)


@pytest.fixture
def draft(people, basic, market):
    return services.item_create(actor=people["deptadmin"], basic_item=basic, department=market)


def approved(people, version, note="新增事项"):
    version = services.version_update(actor=people["deptadmin"], version=version, content=version.content,
                                      change_note=note)
    version = services.version_submit(actor=people["deptadmin"], version=version)
    return services.version_approve(actor=people["legal"], version=version)


# --- who may open what ---------------------------------------------------------------------------


def _url(name):
    return lambda objects: reverse(f"catalogue_workbench:{name}")


def _item_url(objects):
    return reverse("catalogue_workbench:item", args=[objects["draft"].item_id])


def _edit_url(objects):
    return edit_url(objects["draft"])


def _detail_url(objects):
    return detail_url(objects["draft"])


ACTORS = ("anonymous", "citizen1", "clerk", "deptadmin", "housingadmin", "legal", "admin")
EXPECT = {
    # the list: everyone who works with the catalogue
    "items": {"anonymous": "login", "citizen1": 403, "clerk": 403, "deptadmin": "allowed",
              "housingadmin": "allowed", "legal": "allowed", "admin": "allowed"},
    "item_create": {"anonymous": "login", "citizen1": 403, "clerk": 403, "deptadmin": "allowed",
                    "housingadmin": "allowed", "legal": 403, "admin": "allowed"},
    # one item: its department's administrators and platform administrators; others never see it
    "item": {"anonymous": "login", "citizen1": 403, "clerk": 403, "deptadmin": "allowed",
             "housingadmin": 404, "legal": 403, "admin": "allowed"},
    "edit": {"anonymous": "login", "citizen1": 403, "clerk": 403, "deptadmin": "allowed",
             "housingadmin": 404, "legal": 403, "admin": "allowed"},
    # the version page: editors and the legal reviewers of the department
    "detail": {"anonymous": "login", "citizen1": 403, "clerk": 403, "deptadmin": "allowed",
               "housingadmin": 404, "legal": "allowed", "admin": "allowed"},
    "batches": {"anonymous": "login", "citizen1": 403, "clerk": 403, "deptadmin": 403,
                "housingadmin": 403, "legal": 403, "admin": "allowed"},
}
URLS = {"items": _url("items"), "item_create": _url("item_create"), "item": _item_url, "edit": _edit_url,
        "detail": _detail_url, "batches": _url("batches")}
CASES = [
    AccessCase(actor=actor, obj="draft", action=screen, url=URLS[screen], expect=EXPECT[screen][actor])
    for screen in EXPECT
    for actor in ACTORS
] + [
    AccessCase(actor="housingadmin", obj="draft", action="save", method="post", url=_edit_url,
               data={"name": "别人的事项"}, expect=404),
    AccessCase(actor="legal", obj="draft", action="save", method="post", url=_edit_url,
               data={"name": "法制审核员改的"}, expect=403),
    AccessCase(actor="deptadmin", obj="draft", action="save a broken post", method="post", url=_edit_url,
               data={"name": "半个表单"}, expect=400),
    AccessCase(actor="housingadmin", obj="draft", action="submit", method="post",
               url=lambda objects: action_url("submit", objects["draft"]), expect=404),
]


def test_workbench_access_matrix(client, people, draft):
    before = draft.content_sha256
    actors = {name: (None if name == "anonymous" else people[name]) for name in ACTORS}
    assert_access_matrix(client, CASES, actors, {"draft": draft})
    draft.refresh_from_db()
    assert draft.content_sha256 == before and draft.status == VersionStatus.DRAFT


def test_items_list_shows_the_departments_items_with_their_open_version(client_as, people, draft):
    response = client_as(people["deptadmin"]).get(reverse("catalogue_workbench:items"))
    text = page_text(response)
    assert "户外广告设施设置审批" in text and draft.item.impl_code in text and "草稿" in text
    assert "新增事项" in text
    # The other department's administrator has no such item; a text filter that matches nothing neither.
    other = client_as(people["housingadmin"]).get(reverse("catalogue_workbench:items"))
    assert draft.item.impl_code not in page_text(other)
    filtered = client_as(people["deptadmin"]).get(reverse("catalogue_workbench:items"), {"q": "不存在的事项"})
    assert draft.item.impl_code not in page_text(filtered)


def test_legal_reviewer_sees_the_review_queue_and_cannot_edit(client_as, people, draft):
    version = services.version_update(actor=people["deptadmin"], version=draft, content=draft.content,
                                      change_note="新增事项")
    services.version_submit(actor=people["deptadmin"], version=version)
    legal = client_as(people["legal"])
    text = page_text(legal.get(reverse("catalogue_workbench:items")))
    assert "待法制审核" in text and detail_url(draft) in text
    assert reverse("catalogue_workbench:item_create") not in text
    detail = page_text(legal.get(detail_url(draft)))
    assert "审核通过" in detail and "退回修改" in detail and edit_url(draft) not in detail
    assert legal.post(edit_url(draft), {"name": "法制审核员改的"}).status_code == 403
    draft.refresh_from_db()
    assert draft.content["name"] == STANDARD["name"] and draft.status == VersionStatus.IN_REVIEW


# --- creating an item --------------------------------------------------------------------------


def test_department_admin_creates_an_item_from_a_basic_item(client_as, people, basic, market):
    client = client_as(people["deptadmin"])
    page = client.get(reverse("catalogue_workbench:item_create"), {"q": "户外广告"})
    assert basic.basic_code in page_text(page)
    response = client.post(
        reverse("catalogue_workbench:item_create"), {"basic_item": basic.pk, "department": market.pk}
    )
    item = ImplementationItem.objects.get(basic_item=basic)
    version = item.versions.get()
    assert response.status_code == 302 and response["Location"] == edit_url(version)
    assert item.impl_code == f"{market.uscc}3{BASIC_CODE}" and version.content["conditions"] == STANDARD["conditions"]


def test_item_create_offers_only_departments_the_user_administers(client_as, people, basic):
    housing = Department.objects.get(name="遵义市住房和城乡建设局")
    response = client_as(people["deptadmin"]).post(
        reverse("catalogue_workbench:item_create"), {"basic_item": basic.pk, "department": housing.pk}
    )
    assert response.status_code == 400
    assert not ImplementationItem.objects.filter(basic_item=basic).exists()
    # A platform administrator may create the item for any department.
    response = client_as(people["admin"]).post(
        reverse("catalogue_workbench:item_create"), {"basic_item": basic.pk, "department": housing.pk}
    )
    assert response.status_code == 302
    assert ImplementationItem.objects.get(basic_item=basic).department == housing


def test_item_create_shows_the_services_refusal(client_as, people, basic, market):
    response = client_as(people["deptadmin"]).post(
        reverse("catalogue_workbench:item_create"),
        {"basic_item": basic.pk, "department": market.pk, "impl_code": "ABC123"},
    )
    assert response.status_code == 400
    assert "实施编码须包含实施主体的统一社会信用代码" in page_text(response)
    assert not ImplementationItem.objects.filter(basic_item=basic).exists()


# --- the editor ----------------------------------------------------------------------------------


def test_editor_round_trip_saves_the_same_content(client_as, people, draft):
    client = client_as(people["deptadmin"])
    data = editor_data(client, draft)
    response = save(client, draft, data)
    assert response.status_code == 302
    draft.refresh_from_db()
    # Nothing typed, nothing changed: the editor shows every element and posts it back as it was.
    assert draft.content == services.starter_content(draft.item.basic_item)


def test_a_stale_editor_page_does_not_overwrite_a_newer_save(client_as, people, draft):
    first, second = client_as(people["deptadmin"]), client_as(people["admin"])
    stale = editor_data(first, draft)
    fresh = editor_data(second, draft)
    fresh["notes"] = "平台管理员补充的注意事项"
    assert save(second, draft, fresh).status_code == 302
    stale["notes"] = "部门管理员的改动"
    response = save(first, draft, stale)
    assert response.status_code == 409
    assert "已被他人保存" in page_text(response)
    draft.refresh_from_db()
    assert draft.content["notes"] == "平台管理员补充的注意事项"


def test_editor_saves_elements_lists_and_the_form_definition(client_as, people, draft):
    client = client_as(people["deptadmin"])
    data = editor_data(client, draft)
    data["name"] = ["户外广告设施设置审批（遵义市）"]
    data["conditions"] = ["1. 设置地点符合规划；\n2. 设施安全牢固。"]
    data["keywords"] = ["广告牌、招牌，店招"]
    data["promised_limit_note"] = ["自受理之日起计算"]
    data["change_note"] = ["补充受理条件和材料"]
    data["form_definition"] = [json.dumps({"fields": [
        {"key": "site", "label": "设置地点", "type": "text", "required": True}]}, ensure_ascii=False)]
    # Add a material through the "add row" button, then fill in the new row.
    response = client.post(edit_url(draft), {**data, "add_row": "materials"})
    assert response.status_code == 200
    data = form_data(page_text(response), edit_url(draft))
    assert data["materials-TOTAL_FORMS"] == ["2"]
    data["materials-1-name"] = ["场地使用证明"]
    data["materials-1-content"] = ["房屋产权证明或租赁合同。"]
    assert save(client, draft, data).status_code == 302
    draft.refresh_from_db()
    content = draft.content
    assert content["name"] == "户外广告设施设置审批（遵义市）"
    assert content["keywords"] == ["广告牌", "招牌", "店招"]
    assert content["promised_limit"] == {"amount": 10, "unit": "working_day", "note": "自受理之日起计算"}
    assert [m["name"] for m in content["materials"]] == ["户外广告设施设置申请表", "场地使用证明"]
    assert content["materials"][1]["key"] == "m1" and content["materials"][1]["required"] is True
    assert content["form"]["fields"][0]["key"] == "site"
    assert draft.change_note == "补充受理条件和材料"
    # The editor now asks why the name, conditions and materials differ from the standard.
    text = page_text(client.get(edit_url(draft)))
    for label in ("事项名称", "受理条件", "申请材料"):
        assert f"“{label}”与基本目录的标准要素不同，请说明理由。" in text
    assert "设置地点" in text  # the form definition is shown (preview or JSON)


def test_the_form_preview_shows_the_definition_without_saving(client_as, people, draft):
    client = client_as(people["deptadmin"])
    data = editor_data(client, draft)
    definition = {"fields": [{"key": "site", "label": "设置地点", "type": "text", "required": True}]}
    response = client.post(edit_url(draft), {**data, "form_definition": [json.dumps(definition)], "action": "preview"})
    assert response.status_code == 200
    text = page_text(response)
    assert "设置地点" in text and 'name="f-site"' in text
    draft.refresh_from_db()
    assert draft.content["form"] == {"fields": []}
    # A definition the form builder refuses is not previewed; the reason is shown instead.
    broken = {"fields": [{"key": "kind", "label": "类型", "type": "choice"}]}
    response = client.post(edit_url(draft), {**data, "form_definition": [json.dumps(broken)], "action": "preview"})
    assert "无法预览" in page_text(response) and "至少需要一个选项" in page_text(response)


def test_editor_removes_a_row(client_as, people, draft):
    client = client_as(people["deptadmin"])
    data = editor_data(client, draft)
    data["materials-0-DELETE"] = ["on"]
    assert save(client, draft, data).status_code == 302
    draft.refresh_from_db()
    assert draft.content["materials"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"promised_limit_amount": ["25"]}, "承诺办结时限（25）不能超过法定办结时限（20）。"),
        ({"form_definition": ['{"fields": [']}, "申请表定义不是有效的 JSON"),
        ({"form_definition": ['{"fields": [{"key": "Bad Key", "label": "x", "type": "text"}]}']}, "申请表「字段」第1项「编号」"),
        ({"conditions": [""]}, "受理条件：必须填写。"),
        ({"steps-0-name": [""]}, ("办理流程第1项「", "」：必须填写。")),
        ({"promised_limit_amount": ["15"]}, "承诺时限须比法定时限压缩至少 50%"),
    ],
    ids=["promised-over-legal", "malformed-json", "bad-form-field", "no-conditions", "step-without-name",
         "not-compressed-without-reason"],
)
def test_a_bad_guide_is_refused_with_the_located_message_and_changes_nothing(client_as, people, draft, change, message):
    client = client_as(people["deptadmin"])
    data = editor_data(client, draft)
    before = (draft.content, draft.content_sha256, draft.change_note)
    response = save(client, draft, {**data, **change})
    assert response.status_code == 400
    for fragment in (message,) if isinstance(message, str) else message:
        assert fragment in page_text(response)
    draft.refresh_from_db()
    assert (draft.content, draft.content_sha256, draft.change_note) == before


def test_a_limit_not_compressed_by_half_is_flagged_and_saved_with_a_reason(client_as, people, draft):
    client = client_as(people["deptadmin"])
    data = editor_data(client, draft)
    response = save(client, draft, {**data, "promised_limit_amount": ["15"]})
    text = page_text(response)
    assert 'data-compression-flag hidden' not in text and "须填写“时限未压缩理由”" in text
    response = save(client, draft, {**data, "promised_limit_amount": ["15"], "compression_reason": ["需现场勘验"]})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.content["promised_limit"]["amount"] == 15 and draft.content["compression_reason"] == "需现场勘验"
    assert "data-compression-flag>" in page_text(client.get(edit_url(draft)))  # still flagged, reason given


def test_a_version_that_is_not_a_draft_cannot_be_edited(client_as, people, draft):
    published = services.version_publish_urgent(actor=people["admin"], version=approved(people, draft),
                                                reason="政策调整")
    client = client_as(people["deptadmin"])
    # The version page offers no editor, only a new draft.
    text = page_text(client.get(detail_url(published)))
    assert edit_url(published) not in text and "建立新草稿" in text
    before = published.content_sha256
    for response in (client.get(edit_url(published)), client.post(edit_url(published), {"name": "改已发布的"})):
        assert response.status_code == 409
        assert "不能修改" in page_text(response)
    published.refresh_from_db()
    assert published.content_sha256 == before and published.status == VersionStatus.PUBLISHED


def test_a_new_draft_starts_from_the_published_version(client_as, people, draft):
    published = services.version_publish_urgent(actor=people["admin"], version=approved(people, draft),
                                                reason="政策调整")
    client = client_as(people["deptadmin"])
    response = client.post(reverse("catalogue_workbench:item_new_draft", args=[published.item_id]),
                           {"change_note": "更新办理地点"})
    new = ItemVersion.objects.get(item=published.item, number=2)
    assert response.status_code == 302 and response["Location"] == edit_url(new)
    assert new.content == published.content and new.change_note == "更新办理地点"
    # Only one open version: a second new draft is refused with the reason.
    again = client.post(reverse("catalogue_workbench:item_new_draft", args=[published.item_id]))
    assert again.status_code == 409 and "已有一个正在编辑或审核的版本" in page_text(again)


# --- review and publication ----------------------------------------------------------------------


def test_review_and_publication_through_the_screens(client_as, people, draft):
    editor, legal, admin = (client_as(people[name]) for name in ("deptadmin", "legal", "admin"))

    # Submitting needs a change note; the refusal is shown and changes nothing.
    response = editor.post(action_url("submit", draft))
    assert response.status_code == 400 and "请填写变更说明" in page_text(response)
    data = editor_data(editor, draft)
    assert save(editor, draft, {**data, "change_note": ["新增户外广告设施设置审批"]}).status_code == 302
    assert editor.post(action_url("submit", draft)).status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.IN_REVIEW

    # Returning needs an opinion.
    response = legal.post(action_url("return", draft), {"return-opinion": ""})
    assert response.status_code == 400 and "退回修改须写明审核意见。" in page_text(response)
    assert legal.post(action_url("return", draft), {"return-opinion": "请补充设定依据的条款原文。"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT and draft.review_opinion == "请补充设定依据的条款原文。"
    assert "请补充设定依据的条款原文。" in page_text(editor.get(edit_url(draft)))

    # Resubmitted; the department administrator cannot approve it, the legal reviewer can.
    assert editor.post(action_url("submit", draft)).status_code == 302
    response = editor.post(action_url("approve", draft), {"approve-opinion": "自己通过"})
    assert response.status_code == 403 and "您没有权限审核通过" in page_text(response)
    assert legal.post(action_url("approve", draft), {"approve-opinion": "同意。"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.APPROVED and draft.reviewed_by == people["legal"]

    # The platform administrator opens a June/December batch; any other month is refused.
    today = timezone.localdate()
    response = admin.post(reverse("catalogue_workbench:batches"), {"publish_on": dt.date(today.year + 1, 3, 31)})
    assert response.status_code == 400 and "集中发布批次只能安排在6月或12月" in page_text(response)
    publish_on = services.next_regular_date(today)
    assert publish_on.isoformat() in page_text(admin.get(reverse("catalogue_workbench:batches")))
    response = admin.post(reverse("catalogue_workbench:batches"), {"publish_on": publish_on.isoformat()})
    batch = PublicationBatch.objects.get(kind=BatchKind.REGULAR)
    assert response.status_code == 302 and batch.publish_on == publish_on

    # Scheduling needs a batch; then the department administrator schedules the version.
    assert editor.post(action_url("schedule", draft), {}).status_code == 400
    assert editor.post(action_url("schedule", draft), {"schedule-batch": batch.pk}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.SCHEDULED and draft.batch == batch
    assert draft.item.impl_code in page_text(admin.get(reverse("catalogue_workbench:batch", args=[batch.pk])))

    # Before its day the batch is not published (unless the day is today).
    publish_url = reverse("catalogue_workbench:batch_publish", args=[batch.pk])
    if publish_on > today:
        response = admin.post(publish_url)
        assert response.status_code == 409 and "未到发布日期" in page_text(response)
        draft.refresh_from_db()
        assert draft.status == VersionStatus.SCHEDULED
        PublicationBatch.objects.filter(pk=batch.pk).update(publish_on=today)
    assert admin.post(publish_url).status_code == 302
    draft.refresh_from_db()
    batch.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED and batch.status == BatchStatus.PUBLISHED
    assert ImplementationItem.objects.get(pk=draft.item_id).current_version_id == draft.pk


def test_unschedule_takes_the_version_out_of_the_batch(client_as, people, draft):
    version = approved(people, draft)
    batch = services.batch_create(actor=people["admin"], publish_on=services.next_regular_date(timezone.localdate()))
    services.version_schedule(actor=people["deptadmin"], version=version, batch=batch)
    assert client_as(people["deptadmin"]).post(action_url("unschedule", version)).status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED and version.batch is None


def test_urgent_publication_needs_a_reason(client_as, people, draft):
    version = approved(people, draft)
    admin = client_as(people["admin"])
    assert "紧急发布" in page_text(admin.get(detail_url(version)))
    response = admin.post(action_url("publish_urgent", version), {"publish_urgent-reason": "  "})
    assert response.status_code == 400 and "紧急发布须写明理由。" in page_text(response)
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED and version.batch is None
    response = admin.post(action_url("publish_urgent", version), {"publish_urgent-reason": "上级文件要求立即调整。"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED and version.urgent and version.batch.reason == "上级文件要求立即调整。"
    # The department administrator may not publish urgently: no button, and a post is refused.
    other = approved(people, services.version_new_draft(actor=people["deptadmin"], item=version.item))
    editor = client_as(people["deptadmin"])
    assert action_url("publish_urgent", other) not in page_text(editor.get(detail_url(other)))
    response = editor.post(action_url("publish_urgent", other), {"publish_urgent-reason": "急"})
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.status == VersionStatus.APPROVED


def test_discarding_a_draft(client_as, people, draft):
    response = client_as(people["deptadmin"]).post(action_url("discard", draft))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DISCARDED
    assert client_as(people["deptadmin"]).post(action_url("discard", draft)).status_code == 409


def test_the_version_page_shows_the_changes_against_the_published_version(client_as, people, draft):
    published = services.version_publish_urgent(actor=people["admin"], version=approved(people, draft),
                                                reason="政策调整")
    new = services.version_new_draft(actor=people["deptadmin"], item=published.item)
    services.version_update(actor=people["deptadmin"], version=new,
                            content={**new.content, "notes": "请提前预约。"}, change_note="补充注意事项")
    text = page_text(client_as(people["legal"]).get(detail_url(new)))
    assert "与现行版本相比的变更" in text and "注意事项" in text and "请提前预约。" in text
