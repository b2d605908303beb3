"""一件事 in the catalogue: composites of published items, their combined form and material list,
and the refusals at edit time (unpublished members, member limits beyond the joint limit,
conflicting fields)."""

import copy

import pytest

from onewindow.accounts.choices import Role
from onewindow.accounts.models import RoleAssignment
from onewindow.catalogue import composite, services
from onewindow.catalogue.choices import CompositeStatus, MemberDenialRule
from onewindow.catalogue.models import CompositeService
from onewindow.core.errors import DomainError, InvalidInput, PermissionDenied
from onewindow.core.models import AuditEntry
from tests.catalogue.conftest import STANDARD, item_content

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_item(world, make_user):
    """make_item(department, basic_code, name, promised_days, fields, materials, publish=True)."""
    legal_other = make_user("legal_other", real_name="legal_other")
    RoleAssignment.objects.create(user=legal_other, role=Role.LEGAL_REVIEWER, department=world.other)
    editors = {world.market.pk: (world.editor, world.legal), world.other.pk: (world.outsider, legal_other)}

    def make(department, basic_code, name, *, promised_days=8, fields=None, materials=None, publish=True):
        standard = copy.deepcopy(STANDARD)
        standard["name"] = name
        if materials is not None:
            standard["materials"] = materials
        basic = services.basic_item_create(actor=world.admin, basic_code=basic_code, standard=standard)
        content = item_content(name=name, materials=standard["materials"],
                               promised_limit={"amount": promised_days, "unit": "working_day", "note": ""},
                               steps=[{"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk",
                                       "limit_days": 1},
                                      {"key": "review", "name": "审查", "kind": "review", "role": "reviewer",
                                       "limit_days": 1},
                                      {"key": "decide", "name": "决定", "kind": "decide", "role": "approver",
                                       "limit_days": 1}])
        if fields is not None:
            content["form"] = {"fields": fields}
        editor, legal = editors[department.pk]
        version = services.item_create(actor=editor, basic_item=basic, department=department, content=content)
        if publish:
            version = services.version_update(actor=editor, version=version, content=version.content,
                                              change_note="首次发布")
            version = services.version_approve(actor=legal,
                                               version=services.version_submit(actor=editor, version=version))
            services.version_publish_urgent(actor=world.admin, version=version, reason="测试发布")
        return type(version.item).objects.select_related("current_version").get(pk=version.item_id)

    return make


SHARED_FIELD = {"key": "company_name", "label": "企业名称", "type": "text", "required": True}


@pytest.fixture
def members(world, make_item):
    registration = make_item(world.market, "XK00201000", "企业设立登记", promised_days=3, fields=[
        SHARED_FIELD, {"key": "capital", "label": "注册资本（万元）", "type": "number"},
        {"key": "charter", "label": "公司章程", "type": "attachment", "material": "charter"},
    ], materials=[
        {"key": "charter", "name": "公司章程", "required": True},
        {"key": "id_copy", "name": "法定代表人身份证明", "required": True},
    ])
    seal = make_item(world.other, "XK00202000", "公章刻制备案", promised_days=2, fields=[
        SHARED_FIELD, {"key": "seal_count", "label": "刻制枚数", "type": "number", "required": True},
    ], materials=[
        {"key": "legal_rep_id", "name": "法定代表人身份证明", "required": True},
        {"key": "seal_sample", "name": "印章印模", "required": False},
    ])
    return registration, seal


def save(world, items, *, actor=None, **changes):
    options = {"composite_service": None, "code": "YJS-KBQY", "name": "开办企业一件事", "lead_department": world.market,
               "items": list(items), "joint_limit_days": 3, "denial_rule": MemberDenialRule.PARTIAL}
    options.update(changes)
    return services.composite_save(actor=actor or world.editor, **options)


def test_a_composite_of_published_items_is_saved_published_and_withdrawn(world, members):
    saved = save(world, members, merge_results=True)

    assert (saved.status, saved.code, saved.joint_limit_days, saved.merge_results) == (
        CompositeStatus.DRAFT, "YJS-KBQY", 3, True)
    assert [member.item for member in saved.members.all()] == list(members)
    published = services.composite_publish(actor=world.admin, composite_service=saved)
    assert published.status == CompositeStatus.PUBLISHED and published.published_at
    with pytest.raises(DomainError, match="草稿"):
        save(world, members, composite_service=published, name="改名")
    withdrawn = services.composite_withdraw(actor=world.admin, composite_service=published, reason="并入新的一件事")
    assert withdrawn.status == CompositeStatus.WITHDRAWN
    assert list(AuditEntry.objects.filter(action__startswith="catalogue.composite.").values_list(
        "action", flat=True).order_by("id")) == [
        "catalogue.composite.save", "catalogue.composite.publish", "catalogue.composite.withdraw"]


def test_shared_fields_are_filled_once_and_same_named_materials_handed_in_once(members):
    registration, seal = members
    combined = composite.combine([composite.Member.current(registration), composite.Member.current(seal)])

    assert combined.problems == []
    assert [field["key"] for field in combined.fields] == ["company_name", "capital", "seal_count"]
    by_name = {material.name: material for material in combined.materials}
    assert list(by_name) == ["公司章程", "法定代表人身份证明", "印章印模"]
    assert by_name["法定代表人身份证明"].members == ((registration.pk, "id_copy"), (seal.pk, "legal_rep_id"))
    assert by_name["法定代表人身份证明"].required and not by_name["印章印模"].required


@pytest.mark.parametrize(("change", "field", "says"), [
    ({"code": "yjs kbqy!"}, "code", "编码"),
    ({"name": "  "}, "name", "名称"),
    ({"joint_limit_days": 0}, "joint_limit_days", "1至365"),
    ({"denial_rule": "maybe"}, "denial_rule", "不予许可"),
    ({"joint_limit_days": 2}, "items", "企业设立登记”的承诺时限 3 个工作日超过联办承诺时限 2"),
])
def test_bad_composites_are_refused_at_edit_time_and_nothing_is_saved(world, members, change, field, says):
    with pytest.raises(InvalidInput) as refused:
        save(world, members, **change)

    assert refused.value.field == field and says in refused.value.message
    assert not CompositeService.objects.exists() and not AuditEntry.objects.filter(
        action__startswith="catalogue.composite.").exists()


def test_members_must_be_published_distinct_and_led_by_one_of_their_departments(world, members, make_item):
    registration, seal = members
    draft = make_item(world.market, "XK00203000", "税务登记", publish=False)
    with pytest.raises(InvalidInput, match="尚未发布：税务登记"):
        save(world, [registration, draft])
    with pytest.raises(InvalidInput, match="至少由两个事项"):
        save(world, [registration])
    with pytest.raises(InvalidInput, match="重复"):
        save(world, [registration, registration])
    with pytest.raises(InvalidInput, match="牵头部门"):
        save(world, members, lead_department=world.district, actor=world.admin)


def test_fields_that_cannot_be_one_are_refused(world, members, make_item):
    registration, _seal = members
    clashing = make_item(world.other, "XK00204000", "社保登记", promised_days=2, fields=[
        {"key": "company_name", "label": "单位名称", "type": "number"},
    ])
    with pytest.raises(InvalidInput, match="company_name"):
        save(world, [registration, clashing])


def test_only_the_lead_departments_admin_edits_and_only_a_platform_admin_publishes(world, members):
    with pytest.raises(PermissionDenied):
        save(world, members, actor=world.outsider)
    saved = save(world, members)
    with pytest.raises(PermissionDenied):
        services.composite_publish(actor=world.editor, composite_service=saved)
    assert CompositeService.objects.get().status == CompositeStatus.DRAFT
