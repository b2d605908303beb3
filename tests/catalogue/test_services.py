"""The catalogue's services: codes, content rules, the version lifecycle, publication, access."""

import datetime as dt

import pytest
from django.utils import timezone

from onewindow.catalogue import codes, selectors, services
from onewindow.catalogue.choices import BatchStatus, VersionStatus
from onewindow.catalogue.formdef import version_form
from onewindow.catalogue.models import ImplementationItem, ItemVersion, PublicationBatch
from onewindow.catalogue.schema import parse_content
from onewindow.core.errors import DomainError, InvalidInput, PermissionDenied
from onewindow.core.testing.concurrency import at_once
from onewindow.core.models import AuditEntry

from .conftest import item_content


def test_basic_code_rules():
    assert codes.clean_basic_code(" xk00127000 ", item_type="01") == "XK00127000"
    assert codes.make_basic_code(item_type="20", main=12, sub=1) == "GG00012001"
    with pytest.raises(InvalidInput, match="与事项类型“行政许可”不符"):
        codes.clean_basic_code("CF00127000", item_type="01")
    with pytest.raises(InvalidInput, match="1至12位"):
        codes.clean_basic_code("XK-001", item_type="01")
    with pytest.raises(InvalidInput, match="主项代码"):
        codes.clean_basic_code("XK00000001", item_type="01")
    # National 12-character codes are kept as they are.
    assert codes.clean_basic_code("000101001000", item_type="01") == "000101001000"


def test_implementation_code_is_generated_and_checked(world, basic):
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market)
    item = version.item
    assert item.impl_code == f"{world.market.uscc}3XK00127000"
    assert len(item.impl_code) == 29
    with pytest.raises(InvalidInput, match="统一社会信用代码"):
        codes.clean_impl_code("X" * 20, department=world.market, exercise_level="3", basic_code="XK00127000")
    with pytest.raises(InvalidInput, match="末段"):
        codes.clean_impl_code(f"{world.market.uscc}3XK00127001", department=world.market, exercise_level="3",
                              basic_code="XK00127000")
    with pytest.raises(InvalidInput, match="行使层级"):
        codes.clean_impl_code(f"{world.market.uscc}8XK00127000", department=world.market, exercise_level="3",
                              basic_code="XK00127000")
    assert codes.clean_handle_item_code(f"{item.impl_code}01", impl_code=item.impl_code) == f"{item.impl_code}01"
    with pytest.raises(InvalidInput, match="业务办理项编码"):
        codes.clean_handle_item_code("ABC", impl_code=item.impl_code)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"promised_limit": {"amount": 25, "unit": "working_day"}}, "不能超过法定办结时限"),
        ({"promised_limit": {"amount": 15, "unit": "working_day"}}, "压缩至少 50%"),
        ({"promised_limit": {"amount": 8, "unit": "natural_day"}}, "单位须一致"),
        ({"case_type": "1"}, "即办件"),
        ({"conditions": None}, "受理条件"),
        ({"charges_fee": True}, "收费项目"),
        ({"steps": [{"key": "a", "name": "审查", "kind": "review", "role": "reviewer", "limit_days": 1},
                    {"key": "d", "name": "决定", "kind": "decide", "role": "approver", "limit_days": 1}]}, "第一个环节须为受理"),
        ({"steps": [{"key": "a", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 1},
                    {"key": "d", "name": "决定", "kind": "decide", "role": "approver", "limit_days": 9}]}, "超过了承诺办结时限"),
        ({"form": {"fields": [{"key": "x", "label": "营业执照", "type": "attachment", "material": "licence"}]}},
         "不在办事指南的材料清单中"),
        ({"materials": [{"key": "a", "name": "甲"}, {"key": "a", "name": "乙"}]}, "重复"),
        ({"visits": 3}, "到办事现场次数"),
        ({"item_type": "99"}, "事项类型"),
    ],
)
def test_content_rules_refuse_with_a_located_message(changes, message):
    with pytest.raises(InvalidInput, match=message):
        parse_content(item_content(**changes))


def test_uncompressed_limit_needs_a_reason():
    content = parse_content(item_content(promised_limit={"amount": 15, "unit": "working_day"},
                                         steps=item_content()["steps"], compression_reason="需现场核查，时限无法再压缩"))
    assert content.promised_limit.amount == 15


def test_lifecycle_to_publication_and_audit(world, basic, publish):
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                   content=item_content())
    before = AuditEntry.objects.count()
    published = publish(version)
    item = ImplementationItem.objects.get(pk=published.item_id)
    assert published.status == VersionStatus.PUBLISHED
    assert item.current_version_id == published.pk
    assert (item.name, item.item_type, item.promised_days, item.visits) == ("户外广告设置许可", "01", 8, 1)
    assert list(item.list_memberships.values_list("list_code", flat=True)) == ["power"]
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)[before:])
    assert actions == ["catalogue.version.update", "catalogue.version.submit", "catalogue.version.approve",
                       "catalogue.version.publish_urgent"]


def test_published_version_never_changes(world, basic, publish):
    published = publish(services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                             content=item_content()))
    frozen = dict(published.content)
    with pytest.raises(DomainError, match="不能修改"):
        services.version_update(actor=world.editor, version=published, content=item_content(name="改名"))
    draft = services.version_new_draft(actor=world.editor, item=published.item)
    with pytest.raises(DomainError, match="已有一个正在编辑"):
        services.version_new_draft(actor=world.editor, item=published.item)
    services.version_update(actor=world.editor, version=draft, content=item_content(notes="请提前预约。"))
    second = publish(draft, note="增加注意事项")
    published.refresh_from_db()
    assert published.status == VersionStatus.SUPERSEDED
    assert published.content == frozen  # a case filed under version 1 still reads version 1
    assert second.number == 2 and second.content["notes"] == "请提前预约。"
    history = selectors.public_history(second.item)
    assert [entry.version.number for entry in history] == [2, 1]
    assert [(c.label, c.kind) for c in history[0].changes] == [("注意事项", "changed")]


def test_a_versions_form_is_parsed_once_per_content(world, basic):
    draft = services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                 content=item_content())
    first = version_form(draft)
    assert [field.key for field in first.fields] == ["location", "photos"]
    assert version_form(ItemVersion.objects.get(pk=draft.pk)) is first  # read again: the same parse

    form = {"fields": [{"key": "height", "label": "高度", "type": "number"}]}
    services.version_update(actor=world.editor, version=draft, content=item_content(form=form))
    edited = version_form(ItemVersion.objects.get(pk=draft.pk))
    assert [field.key for field in edited.fields] == ["height"]


def test_return_needs_an_opinion_and_reviewers_do_not_approve_their_own(world, basic):
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                   content=item_content(), change_note="新增事项")
    version = services.version_submit(actor=world.editor, version=version)
    with pytest.raises(InvalidInput, match="审核意见"):
        services.version_return(actor=world.legal, version=version, opinion="  ")
    version = services.version_return(actor=world.legal, version=version, opinion="设定依据条款有误")
    assert version.status == VersionStatus.DRAFT and version.review_opinion == "设定依据条款有误"
    # A platform admin who also reviews may not approve a change they submitted.
    from onewindow.accounts.choices import Role
    from onewindow.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=world.admin, role=Role.LEGAL_REVIEWER, department=world.market)
    version = services.version_submit(actor=world.admin, version=version)
    with pytest.raises(PermissionDenied):
        services.version_approve(actor=world.admin, version=version)
    assert services.version_approve(actor=world.legal, version=version).status == VersionStatus.APPROVED


def test_publishing_needs_legal_review(world, basic):
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                   content=item_content(), change_note="新增")
    with pytest.raises(DomainError, match="草稿"):
        services.version_publish_urgent(actor=world.admin, version=version, reason="急")
    version = services.version_submit(actor=world.editor, version=version)
    with pytest.raises(DomainError, match="法制审核中"):
        services.version_publish_urgent(actor=world.admin, version=version, reason="急")
    version = services.version_approve(actor=world.legal, version=version)
    with pytest.raises(InvalidInput, match="理由"):
        services.version_publish_urgent(actor=world.admin, version=version, reason="")
    with pytest.raises(PermissionDenied):
        services.version_publish_urgent(actor=world.editor, version=version, reason="急")
    version.refresh_from_db()
    assert version.status == VersionStatus.APPROVED and not version.item.current_version_id


def test_regular_batches_are_june_or_december_and_publish_on_their_day(world, basic):
    today = timezone.localdate()
    with pytest.raises(InvalidInput, match="6月或12月"):
        services.batch_create(actor=world.admin, publish_on=dt.date(today.year + 1, 3, 1))
    with pytest.raises(PermissionDenied):
        services.batch_create(actor=world.editor, publish_on=dt.date(today.year + 1, 6, 30))
    batch = services.batch_create(actor=world.admin, publish_on=services.next_regular_date(today))
    assert batch.publish_on.month in (6, 12)
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                   content=item_content(), change_note="新增")
    version = services.version_submit(actor=world.editor, version=version)
    version = services.version_approve(actor=world.legal, version=version)
    version = services.version_schedule(actor=world.editor, version=version, batch=batch)
    assert version.status == VersionStatus.SCHEDULED
    if batch.publish_on > today:
        with pytest.raises(DomainError, match="未到发布日期"):
            services.batch_publish(actor=world.admin, batch=batch)
        assert services.publish_due_batches_sweep() == 0
        # The day comes: the hourly sweep publishes the batch.
        PublicationBatch.objects.filter(pk=batch.pk).update(publish_on=today)
    assert services.publish_due_batches_sweep() == 1
    batch.refresh_from_db()
    version.refresh_from_db()
    assert batch.status == BatchStatus.PUBLISHED and version.status == VersionStatus.PUBLISHED
    with pytest.raises(DomainError, match="已发布"):
        services.version_unschedule(actor=world.editor, version=version)


def test_only_the_department_and_admins_edit(world, basic):
    with pytest.raises(PermissionDenied):
        services.item_create(actor=world.outsider, basic_item=basic, department=world.market)
    with pytest.raises(PermissionDenied):
        services.item_create(actor=world.clerk, basic_item=basic, department=world.market)
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market)
    for actor in (world.outsider, world.clerk, world.legal, world.citizen):
        with pytest.raises(PermissionDenied):
            services.version_update(actor=actor, version=version, content=version.content)
    assert services.version_update(actor=world.admin, version=version, content=version.content).pk == version.pk
    assert list(selectors.editable_items(world.editor)) == [version.item]
    assert list(selectors.editable_items(world.outsider)) == []
    assert list(selectors.editable_items(world.citizen)) == []
    assert selectors.editable_items(world.admin).count() == 1
    with pytest.raises(PermissionDenied):
        services.basic_item_create(actor=world.editor, basic_code="XK00128000", standard=item_content())


def test_same_item_same_standard_needs_recorded_differences(world, basic, publish):
    district_editor = world.editor
    from onewindow.accounts.choices import Role
    from onewindow.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=district_editor, role=Role.DEPARTMENT_ADMIN, department=world.district)
    changed = item_content(conditions="设置户外广告符合红花岗区户外广告设置专项规划。")
    version = services.item_create(actor=district_editor, basic_item=basic, department=world.district,
                                   content=changed, change_note="区级实施")
    assert services.standard_differences(parse_content(version.content), basic) == ["conditions"]
    with pytest.raises(InvalidInput, match="受理条件.*差异说明"):
        services.version_submit(actor=district_editor, version=version)
    version = services.version_update(
        actor=district_editor, version=version,
        content={**changed, "differences": {"conditions": "区政府另有专项规划（红府发〔2025〕3号）"}},
    )
    assert services.version_submit(actor=district_editor, version=version).status == VersionStatus.IN_REVIEW


def test_bad_input_changes_nothing(world, basic):
    versions, audit_entries = ItemVersion.objects.count(), AuditEntry.objects.count()
    with pytest.raises(InvalidInput):
        services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                             content=item_content(promised_limit={"amount": 99, "unit": "working_day"}))
    with pytest.raises(InvalidInput):
        services.item_create(actor=world.editor, basic_item=basic, department=world.market, impl_code="NOT-OURS")
    assert (ItemVersion.objects.count(), AuditEntry.objects.count()) == (versions, audit_entries)
    assert not ImplementationItem.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_cannot_both_act(world, basic):
    """Two legal reviewers press approve and return at the same moment: exactly one wins."""
    from onewindow.accounts.choices import AccountKind, Role
    from onewindow.accounts.models import RoleAssignment, User

    second = User.objects.create_user(username="legal2", kind=AccountKind.STAFF)
    RoleAssignment.objects.create(user=second, role=Role.LEGAL_REVIEWER, department=world.market)
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                   content=item_content(), change_note="新增")
    version = services.version_submit(actor=world.editor, version=version)
    outcomes = at_once([
        lambda: services.version_approve(actor=world.legal, version=version),
        lambda: services.version_return(actor=second, version=version, opinion="再改"),
    ])
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["DomainError", "ItemVersion"]
    assert AuditEntry.objects.filter(action__in=["catalogue.version.approve", "catalogue.version.return"]).count() == 1


def test_a_stale_editor_does_not_overwrite_a_newer_save(world, basic):
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market)
    opened_at = version.content_sha256
    services.version_update(actor=world.admin, version=version, content=item_content(notes="管理员补充"),
                            expected_sha256=opened_at)
    with pytest.raises(DomainError, match="已被他人保存"):
        services.version_update(actor=world.editor, version=version, content=item_content(notes="部门改动"),
                                expected_sha256=opened_at)
    version.refresh_from_db()
    assert version.content["notes"] == "管理员补充"


def test_a_departments_own_blank_forms_are_not_a_difference_from_the_standard(world, basic):
    content = item_content()
    content["materials"][0]["blank_form"] = "A" * 32
    version = services.item_create(actor=world.editor, basic_item=basic, department=world.market, content=content)
    assert services.standard_differences(parse_content(version.content), basic) == []
