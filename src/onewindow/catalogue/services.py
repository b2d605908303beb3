"""Every change to the catalogue: one keyword-only function per action, one transaction, one
audit entry. Item versions follow `VERSION_LIFECYCLE`:

    draft ──submit──▶ in_review ──approve──▶ approved ──schedule──▶ scheduled ──(batch)──▶ published
      ▲                  │                      │  ▲                    │                    │
      └──────return──────┘                      │  └─────unschedule─────┘                    ▼
    draft ──discard──▶ discarded                └──publish_urgent──▶ published        superseded

Publication happens in the regular June and December batches, or at once for an urgent change
with a recorded reason. Published versions never change.
"""

import datetime as dt
import hashlib
import logging
import re
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import has_role, is_platform_admin
from onewindow.catalogue import composite, search
from onewindow.catalogue.choices import (
    OPEN_VERSION_STATUSES,
    BatchKind,
    BatchStatus,
    CompositeStatus,
    MemberDenialRule,
    StepKind,
    TimeUnit,
    VersionStatus,
)
from onewindow.catalogue.codes import clean_basic_code, clean_handle_item_code, clean_impl_code
from onewindow.catalogue.models import (
    BasicItem,
    CompositeMember,
    CompositeService,
    ImplementationItem,
    ItemListMembership,
    ItemVersion,
    PublicationBatch,
    Theme,
)
from onewindow.catalogue.schema import (
    LABELS,
    STANDARD_ELEMENTS,
    ItemContent,
    StandardElements,
    content_json,
    parse_content,
    parse_standard,
)
from onewindow.core import audit
from onewindow.core.errors import DomainError, InvalidInput, PermissionDenied
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.core.models import Department
from onewindow.core.periodic import sweep

logger = logging.getLogger(__name__)

# Regular batches are published in these months (seed Zunyi 2017 §1).
BATCH_MONTHS = (6, 12)


# --- who may act -------------------------------------------------------------------


def may_edit(actor: Any, item: ImplementationItem) -> bool:
    """The item's department administrators and platform administrators."""
    return is_platform_admin(actor) or has_role(actor, Role.DEPARTMENT_ADMIN, department=item.department)


def may_review(actor: Any, item: ImplementationItem) -> bool:
    return has_role(actor, Role.LEGAL_REVIEWER, department=item.department)


def may_publish(actor: Any, item: ImplementationItem | None = None) -> bool:
    return is_platform_admin(actor)


def _may_edit_version(actor: Any, version: ItemVersion) -> bool:
    return may_edit(actor, version.item)


def _may_review_version(actor: Any, version: ItemVersion) -> bool:
    # Nobody approves their own change (four eyes).
    return may_review(actor, version.item) and version.submitted_by_id != getattr(actor, "pk", None)


def _may_publish_version(actor: Any, version: ItemVersion) -> bool:
    return may_publish(actor, version.item)


def _may_schedule_version(actor: Any, version: ItemVersion) -> bool:
    return may_edit(actor, version.item)


S = VersionStatus
VERSION_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该事项版本"),
    state_labels=dict(VersionStatus.choices),
    transitions=[
        Transition("edit", frozenset({S.DRAFT}), S.DRAFT, gettext_lazy("修改"), _may_edit_version),
        Transition("submit", frozenset({S.DRAFT}), S.IN_REVIEW, gettext_lazy("提交法制审核"), _may_edit_version),
        Transition("discard", frozenset({S.DRAFT}), S.DISCARDED, gettext_lazy("废弃"), _may_edit_version),
        Transition("return", frozenset({S.IN_REVIEW}), S.DRAFT, gettext_lazy("退回修改"), _may_review_version),
        Transition("approve", frozenset({S.IN_REVIEW}), S.APPROVED, gettext_lazy("审核通过"), _may_review_version),
        Transition("schedule", frozenset({S.APPROVED}), S.SCHEDULED, gettext_lazy("列入发布批次"), _may_schedule_version),
        Transition("unschedule", frozenset({S.SCHEDULED}), S.APPROVED, gettext_lazy("移出发布批次"), _may_schedule_version),
        Transition("publish_urgent", frozenset({S.APPROVED}), S.PUBLISHED, gettext_lazy("紧急发布"), _may_publish_version),
        Transition("publish", frozenset({S.SCHEDULED}), S.PUBLISHED, gettext_lazy("发布"), lambda actor, version: True),
    ],
)


def _locked_version(version: ItemVersion) -> ItemVersion:
    """Re-read the version under a row lock so concurrent actions are serialised."""
    return ItemVersion.objects.select_for_update().select_related("item__department__region").get(pk=version.pk)


def _transition(action: str, version: ItemVersion, actor: Any) -> tuple[ItemVersion, Transition]:
    locked = _locked_version(version)
    transition = VERSION_LIFECYCLE.check(action, state=locked.status, actor=actor, obj=locked)
    return locked, transition


def _required_text(value: Any, *, field: str, message: str, max_length: int = 4000) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(message, field=field)
    if len(text) > max_length:
        raise InvalidInput(_("内容过长（不超过 %(n)s 字）。") % {"n": max_length}, field=field)
    return text


def _digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(audit.canonical_json(content).encode()).hexdigest()


def _version_facts(version: ItemVersion) -> dict[str, Any]:
    return {"item": version.item.impl_code, "number": version.number, "status": version.status,
            "content_sha256": version.content_sha256}


# --- themes and basic items ---------------------------------------------------------


@transaction.atomic
def theme_save(*, actor: Any, code: str, name: str, audience: str, order: int = 0) -> Theme:
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以维护服务主题。"))
    theme, created = Theme.objects.update_or_create(
        code=code, defaults={"name": name, "audience": audience, "order": order}
    )
    audit.record(actor=actor, action="catalogue.theme.save", target=theme,
                 after={"code": code, "name": name, "audience": audience, "created": created})
    return theme


def _basic_fields(*, basic_code: Any, standard: Any) -> tuple[str, StandardElements]:
    elements = parse_standard(standard)
    return clean_basic_code(basic_code, item_type=elements.item_type), elements


@transaction.atomic
def basic_item_create(*, actor: Any, basic_code: str, standard: dict[str, Any]) -> BasicItem:
    """A basic item with its standard elements (name, type, legal basis, level, legal limit,
    conditions, materials). Platform administrators maintain the basic catalogue."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以维护基本目录。"))
    code, elements = _basic_fields(basic_code=basic_code, standard=standard)
    if BasicItem.objects.filter(basic_code=code).exists():
        raise InvalidInput(_("基本编码 %(code)s 已存在。") % {"code": code}, field="basic_code")
    basic = BasicItem.objects.create(
        basic_code=code,
        name=elements.name,
        item_type=elements.item_type,
        exercise_level=elements.exercise_level,
        legal_basis=elements.legal_basis,
        standard=elements.model_dump(mode="json"),
    )
    audit.record(actor=actor, action="catalogue.basic_item.create", target=basic, after=basic.standard)
    return basic


@transaction.atomic
def basic_item_update(*, actor: Any, basic_item: BasicItem, standard: dict[str, Any]) -> BasicItem:
    """Change the standard; published versions keep what they were published with."""
    if not is_platform_admin(actor):
        raise PermissionDenied(_("只有平台管理员可以维护基本目录。"))
    basic = BasicItem.objects.select_for_update().get(pk=basic_item.pk)
    code, elements = _basic_fields(basic_code=basic.basic_code, standard=standard)
    before = basic.standard
    basic.name = elements.name
    basic.item_type = elements.item_type
    basic.exercise_level = elements.exercise_level
    basic.legal_basis = elements.legal_basis
    basic.standard = elements.model_dump(mode="json")
    basic.save()
    audit.record(actor=actor, action="catalogue.basic_item.update", target=basic, before=before, after=basic.standard)
    return basic


def starter_content(basic_item: BasicItem) -> dict[str, Any]:
    """A valid first draft from the basic item's standard: the department fills in the rest."""
    standard = basic_item.standard
    legal = standard.get("legal_limit") or {"amount": None, "unit": TimeUnit.WORKING_DAY}
    promised_days = legal["amount"] // 2 if legal.get("amount") else 10
    review_days = max(promised_days - 1, 0)
    content = {
        **standard,
        "promised_limit": {"amount": promised_days, "unit": legal.get("unit", TimeUnit.WORKING_DAY), "note": ""},
        "service_objects": ["1"],
        "handling_forms": ["1", "2"],
        "case_type": "2" if promised_days else "1",
        "visits": 1,
        "online_depth": 3,
        "delivery_methods": ["window"],
        "steps": [
            {"key": "accept", "name": _("受理"), "kind": StepKind.ACCEPT, "role": Role.WINDOW_CLERK, "limit_days": 1},
            {"key": "review", "name": _("审查"), "kind": StepKind.REVIEW, "role": Role.REVIEWER, "limit_days": review_days},
            {"key": "decide", "name": _("决定"), "kind": StepKind.DECIDE, "role": Role.APPROVER,
             "limit_days": promised_days - review_days},
        ],
    }
    return content_json(parse_content(content))


# A department's own blank forms and samples are not part of the standard.
_LOCAL_MATERIAL_FIELDS = ("blank_form", "sample")


def _comparable(name: str, value: Any) -> Any:
    if name == "materials" and isinstance(value, list):
        return [{k: v for k, v in m.items() if k not in _LOCAL_MATERIAL_FIELDS} for m in value if isinstance(m, dict)]
    return value


def standard_differences(content: ItemContent, basic_item: BasicItem) -> list[str]:
    """Standard elements in which `content` differs from the basic item's standard."""
    ours = content_json(content)
    return [
        name for name in STANDARD_ELEMENTS
        if name in basic_item.standard and _comparable(name, ours[name]) != _comparable(name, basic_item.standard[name])
    ]


def _check_differences_recorded(content: ItemContent, basic_item: BasicItem) -> None:
    unexplained = [name for name in standard_differences(content, basic_item) if not content.differences.get(name)]
    if unexplained:
        labels = "、".join(str(LABELS[name]) for name in unexplained)
        raise InvalidInput(
            _("“%(elements)s”与基本目录的标准要素不同，须在差异说明中写明理由（同一事项、同一标准、同一编码）。")
            % {"elements": labels},
            field="differences",
        )


# --- implementation items and their versions ------------------------------------------


@transaction.atomic
def item_create(
    *,
    actor: Any,
    basic_item: BasicItem,
    department: Department,
    impl_code: str = "",
    handle_item_code: str = "",
    content: dict[str, Any] | None = None,
    change_note: str = "",
) -> ItemVersion:
    """A new implementation item of `department` with its first draft version."""
    probe = ImplementationItem(basic_item=basic_item, department=department, region=department.region)
    if not may_edit(actor, probe):
        raise PermissionDenied(_("只有本部门的部门管理员或平台管理员可以新增该部门的事项。"))
    parsed = parse_content(content if content is not None else starter_content(basic_item))
    code = clean_impl_code(
        impl_code, department=department, exercise_level=parsed.exercise_level, basic_code=basic_item.basic_code
    )
    if ImplementationItem.objects.filter(impl_code=code).exists():
        raise InvalidInput(_("实施编码 %(code)s 已存在。") % {"code": code}, field="impl_code")
    item = ImplementationItem.objects.create(
        basic_item=basic_item,
        impl_code=code,
        handle_item_code=clean_handle_item_code(handle_item_code, impl_code=code),
        department=department,
        region=department.region,
    )
    stored = content_json(parsed)
    version = ItemVersion.objects.create(
        item=item, number=1, content=stored, content_sha256=_digest(stored), created_by=actor,
        change_note=change_note.strip() if isinstance(change_note, str) else "",
    )
    audit.record(actor=actor, action="catalogue.item.create", target=version,
                 after={**_version_facts(version), "department": department.uscc})
    return version


@transaction.atomic
def version_new_draft(*, actor: Any, item: ImplementationItem, change_note: str = "") -> ItemVersion:
    """Start a change: a new draft copied from the published version (or the latest one)."""
    locked = ImplementationItem.objects.select_for_update().get(pk=item.pk)
    if not may_edit(actor, locked):
        raise PermissionDenied(_("只有本部门的部门管理员或平台管理员可以修改该事项。"))
    if locked.versions.filter(status__in=OPEN_VERSION_STATUSES).exists():
        raise DomainError(_("该事项已有一个正在编辑或审核的版本，请在该版本上继续。"))
    source = locked.current_version or locked.versions.order_by("-number").first()
    number = (locked.versions.aggregate(Max("number"))["number__max"] or 0) + 1
    version = ItemVersion.objects.create(
        item=locked, number=number, content=source.content, content_sha256=source.content_sha256,
        created_by=actor, change_note=change_note.strip() if isinstance(change_note, str) else "",
    )
    audit.record(actor=actor, action="catalogue.version.new_draft", target=version,
                 after={**_version_facts(version), "from": source.number})
    return version


@transaction.atomic
def version_update(
    *,
    actor: Any,
    version: ItemVersion,
    content: dict[str, Any],
    change_note: str | None = None,
    expected_sha256: str | None = None,
) -> ItemVersion:
    """Save a draft. Only drafts change; a published version is never edited in place.

    `expected_sha256` is the content digest the editor started from: if someone saved the
    draft in between, the save is refused instead of silently overwriting their work.
    """
    locked, _transition_ = _transition("edit", version, actor)
    if expected_sha256 is not None and expected_sha256 != locked.content_sha256:
        raise DomainError(_("该草稿在您编辑期间已被他人保存，请刷新页面后再修改。"))
    stored = content_json(parse_content(content))
    before = locked.content_sha256
    locked.content = stored
    locked.content_sha256 = _digest(stored)
    if change_note is not None:
        locked.change_note = change_note.strip() if isinstance(change_note, str) else ""
    locked.save(update_fields=["content", "content_sha256", "change_note", "updated_at"])
    audit.record(actor=actor, action="catalogue.version.update", target=locked,
                 before={"content_sha256": before}, after=_version_facts(locked))
    return locked


@transaction.atomic
def version_submit(*, actor: Any, version: ItemVersion) -> ItemVersion:
    """Send a draft to legal review (法制审核)."""
    locked, transition = _transition("submit", version, actor)
    content = parse_content(locked.content)
    _check_differences_recorded(content, locked.item.basic_item)
    if not (locked.change_note or "").strip():
        raise InvalidInput(_("请填写变更说明，供法制审核和公开变更记录使用。"), field="change_note")
    locked.status = transition.target
    locked.submitted_by = actor
    locked.submitted_at = timezone.now()
    locked.save(update_fields=["status", "submitted_by", "submitted_at", "updated_at"])
    audit.record(actor=actor, action="catalogue.version.submit", target=locked, after=_version_facts(locked))
    return locked


def _review(action: str, version: ItemVersion, actor: Any, opinion: str) -> ItemVersion:
    """Record a legal reviewer's decision (return or approve) with its opinion."""
    locked, transition = _transition(action, version, actor)
    locked.review_opinion = opinion
    locked.status = transition.target
    locked.reviewed_by = actor
    locked.reviewed_at = timezone.now()
    locked.save(update_fields=["status", "review_opinion", "reviewed_by", "reviewed_at", "updated_at"])
    audit.record(actor=actor, action=f"catalogue.version.{action}", target=locked,
                 after={**_version_facts(locked), "opinion": opinion})
    return locked


@transaction.atomic
def version_return(*, actor: Any, version: ItemVersion, opinion: str) -> ItemVersion:
    """Send a change back to its editors; the opinion says what to fix."""
    text = _required_text(opinion, field="opinion", message=_("退回修改须写明审核意见。"))
    return _review("return", version, actor, text)


@transaction.atomic
def version_approve(*, actor: Any, version: ItemVersion, opinion: str = "") -> ItemVersion:
    return _review("approve", version, actor, opinion.strip() if isinstance(opinion, str) else "")


@transaction.atomic
def version_discard(*, actor: Any, version: ItemVersion) -> ItemVersion:
    locked, transition = _transition("discard", version, actor)
    locked.status = transition.target
    locked.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="catalogue.version.discard", target=locked, after=_version_facts(locked))
    return locked


# --- publication --------------------------------------------------------------------


def next_regular_date(today: dt.date) -> dt.date:
    """The next regular publication day: 30 June or 31 December."""
    for month, day in ((6, 30), (12, 31)):
        candidate = dt.date(today.year, month, day)
        if candidate >= today:
            return candidate
    return dt.date(today.year + 1, 6, 30)


@transaction.atomic
def batch_create(*, actor: Any, publish_on: dt.date, title: str = "") -> PublicationBatch:
    """A regular publication batch, in June or December."""
    if not may_publish(actor):
        raise PermissionDenied(_("只有平台管理员可以建立发布批次。"))
    if not isinstance(publish_on, dt.date) or publish_on.month not in BATCH_MONTHS:
        raise InvalidInput(_("集中发布批次只能安排在6月或12月；其他时间请使用紧急发布。"), field="publish_on")
    if publish_on < timezone.localdate():
        raise InvalidInput(_("发布日期不能早于今天。"), field="publish_on")
    title = (title or "").strip() or _("%(year)s年%(month)s月集中发布") % {"year": publish_on.year, "month": publish_on.month}
    batch = PublicationBatch.objects.create(kind=BatchKind.REGULAR, title=title[:100], publish_on=publish_on, created_by=actor)
    audit.record(actor=actor, action="catalogue.batch.create", target=batch,
                 after={"title": batch.title, "publish_on": publish_on.isoformat()})
    return batch


def _open_batch(batch: PublicationBatch) -> PublicationBatch:
    locked = PublicationBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != BatchStatus.OPEN:
        raise DomainError(_("发布批次“%(title)s”已发布，不能再调整。") % {"title": locked.title})
    return locked


@transaction.atomic
def version_schedule(*, actor: Any, version: ItemVersion, batch: PublicationBatch) -> ItemVersion:
    locked_batch = _open_batch(batch)
    if locked_batch.kind != BatchKind.REGULAR:
        raise DomainError(_("只能列入集中发布批次。"))
    locked, transition = _transition("schedule", version, actor)
    locked.status = transition.target
    locked.batch = locked_batch
    locked.save(update_fields=["status", "batch", "updated_at"])
    audit.record(actor=actor, action="catalogue.version.schedule", target=locked,
                 after={**_version_facts(locked), "batch": locked_batch.pk})
    return locked


@transaction.atomic
def version_unschedule(*, actor: Any, version: ItemVersion) -> ItemVersion:
    locked, transition = _transition("unschedule", version, actor)
    _open_batch(locked.batch)
    locked.status = transition.target
    locked.batch = None
    locked.save(update_fields=["status", "batch", "updated_at"])
    audit.record(actor=actor, action="catalogue.version.unschedule", target=locked, after=_version_facts(locked))
    return locked


def _make_current(version: ItemVersion, now: dt.datetime) -> None:
    """Publish `version`: supersede the previous one, copy facets, reindex."""
    item = ImplementationItem.objects.select_for_update().get(pk=version.item_id)
    if item.current_version_id:
        ItemVersion.objects.filter(pk=item.current_version_id).update(
            status=VersionStatus.SUPERSEDED, superseded_at=now
        )
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    version.save(update_fields=["status", "batch", "published_at", "updated_at"])
    content = parse_content(version.content)
    item.current_version = version
    item.name = content.name
    item.item_type = content.item_type
    item.case_type = content.case_type
    item.promised_days = content.promised_limit.amount
    item.visits = content.visits
    item.online_depth = content.online_depth
    item.published_at = now
    item.save()
    item.themes.set(Theme.objects.filter(code__in=content.themes))
    item.list_memberships.all().delete()
    ItemListMembership.objects.bulk_create(
        [ItemListMembership(item=item, list_code=code) for code in dict.fromkeys(content.lists)]
    )
    search.index_item(item)


def _check_themes(version: ItemVersion) -> None:
    codes = set(version.content.get("themes", []))
    known = set(Theme.objects.filter(code__in=codes).values_list("code", flat=True))
    if codes - known:
        raise DomainError(
            _("事项“%(name)s”引用了不存在的服务主题：%(codes)s。")
            % {"name": version.content.get("name"), "codes": "、".join(sorted(codes - known))}
        )


@transaction.atomic
def batch_publish(*, actor: Any, batch: PublicationBatch) -> PublicationBatch:
    """Publish every version in a regular batch whose day has come (actor None: the sweep)."""
    if actor is not None and not may_publish(actor):
        raise PermissionDenied(_("只有平台管理员可以发布批次。"))
    locked = _open_batch(batch)
    today = timezone.localdate()
    if locked.publish_on > today:
        raise DomainError(
            _("批次计划于 %(date)s 发布，未到发布日期；急需发布的变更请使用紧急发布。") % {"date": locked.publish_on}
        )
    versions = list(locked.versions.select_for_update().filter(status=VersionStatus.SCHEDULED).order_by("pk"))
    if not versions:
        raise DomainError(_("批次中没有待发布的事项版本。"))
    now = timezone.now()
    for version in versions:
        VERSION_LIFECYCLE.check("publish", state=version.status, actor=actor, obj=version)
        _check_themes(version)
        _make_current(version, now)
    locked.status = BatchStatus.PUBLISHED
    locked.published_at = now
    locked.published_by = actor
    locked.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    audit.record(actor=actor, action="catalogue.batch.publish", target=locked,
                 after={"versions": [_version_facts(v) for v in versions]})
    return locked


@transaction.atomic
def version_publish_urgent(*, actor: Any, version: ItemVersion, reason: str) -> ItemVersion:
    """Publish one approved change at once, outside the regular batches, with a recorded reason."""
    locked, _transition_ = _transition("publish_urgent", version, actor)
    text = _required_text(reason, field="reason", message=_("紧急发布须写明理由。"))
    _check_themes(locked)
    now = timezone.now()
    batch = PublicationBatch.objects.create(
        kind=BatchKind.URGENT,
        title=_("紧急发布：%(name)s") % {"name": locked.content.get("name", "")[:80]},
        publish_on=timezone.localdate(),
        reason=text,
        status=BatchStatus.PUBLISHED,
        created_by=actor,
        published_at=now,
        published_by=actor,
    )
    locked.batch = batch
    locked.urgent = True
    locked.save(update_fields=["batch", "urgent"])
    _make_current(locked, now)
    audit.record(actor=actor, action="catalogue.version.publish_urgent", target=locked,
                 after={**_version_facts(locked), "reason": text})
    return locked


@sweep(every_seconds=3600)
def publish_due_batches_sweep() -> int:
    """Publish regular batches whose day has come; one failing batch does not stop the others."""
    published = 0
    due = PublicationBatch.objects.filter(
        status=BatchStatus.OPEN, kind=BatchKind.REGULAR, publish_on__lte=timezone.localdate(),
        versions__status=VersionStatus.SCHEDULED,
    ).distinct()
    for batch in due:
        try:
            batch_publish(actor=None, batch=batch)
        except DomainError as exc:
            logger.warning("publication batch %s not published: %s", batch.pk, exc.message)
            continue
        published += 1
    return published


# --- composite services (一件事) -----------------------------------------------------------------

COMPOSITE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")
MAX_JOINT_DAYS = 365


def may_edit_composite(actor: Any, lead_department: Department) -> bool:
    return is_platform_admin(actor) or has_role(actor, Role.DEPARTMENT_ADMIN, department=lead_department)


def _composite_problems(*, lead_department: Department, items: list[ImplementationItem],
                        joint_limit_days: int) -> list[str]:
    """Everything that keeps a composite from being applied for, said at edit time."""
    problems = []
    if len(items) < 2:
        problems.append(_("一件事至少由两个事项组成。"))
    unpublished = [item.name or item.basic_item.name for item in items if not item.is_published]
    if unpublished:
        problems.append(_("成员事项尚未发布：%(names)s。") % {"names": "、".join(unpublished)})
    if items and lead_department.pk not in {item.department_id for item in items}:
        problems.append(_("牵头部门须是某一成员事项的实施主体。"))
    for item in items:
        if item.promised_days is not None and item.promised_days > joint_limit_days:
            problems.append(_("成员事项“%(name)s”的承诺时限 %(days)s 个工作日超过联办承诺时限 %(joint)s 个工作日。")
                            % {"name": item.name, "days": item.promised_days, "joint": joint_limit_days})
    if not unpublished:
        problems += composite.combine([composite.Member.current(item) for item in items]).problems
    return problems


@transaction.atomic
def composite_save(
    *, actor: Any, composite_service: CompositeService | None, code: str, name: str, lead_department: Department,
    items: list[ImplementationItem], joint_limit_days: int, denial_rule: str = MemberDenialRule.PARTIAL,
    merge_results: bool = False,
) -> CompositeService:
    """Create a composite service, or change one that is still a draft."""
    if not may_edit_composite(actor, lead_department):
        raise PermissionDenied(_("只有牵头部门的管理员或平台管理员可以维护一件事。"))
    code = code.strip().upper() if isinstance(code, str) else ""
    if not COMPOSITE_CODE.fullmatch(code):
        raise InvalidInput(_("一件事编码应为2至40位大写字母、数字或连字符。"), field="code")
    name = _required_text(name, field="name", message=_("请填写一件事名称。"), max_length=200)
    if not isinstance(joint_limit_days, int) or not 1 <= joint_limit_days <= MAX_JOINT_DAYS:
        raise InvalidInput(_("联办承诺时限应为1至365个工作日。"), field="joint_limit_days")
    if denial_rule not in MemberDenialRule.values:
        raise InvalidInput(_("请选择成员事项不予许可时的处理方式。"), field="denial_rule")
    if len({item.pk for item in items}) != len(items):
        raise InvalidInput(_("同一事项不能重复加入一件事。"), field="items")
    problems = _composite_problems(lead_department=lead_department, items=items, joint_limit_days=joint_limit_days)
    if problems:
        raise InvalidInput(" ".join(problems), field="items")
    if composite_service is None:
        if CompositeService.objects.filter(code=code).exists():
            raise InvalidInput(_("一件事编码“%(code)s”已被使用。") % {"code": code}, field="code")
        composite_service = CompositeService(code=code)
    else:
        composite_service = CompositeService.objects.select_for_update().get(pk=composite_service.pk)
        if composite_service.status != CompositeStatus.DRAFT:
            raise DomainError(_("只有草稿状态的一件事可以修改。"))
        if code != composite_service.code and CompositeService.objects.filter(code=code).exists():
            raise InvalidInput(_("一件事编码“%(code)s”已被使用。") % {"code": code}, field="code")
        composite_service.code = code
    composite_service.name = name
    composite_service.lead_department = lead_department
    composite_service.joint_limit_days = joint_limit_days
    composite_service.denial_rule = denial_rule
    composite_service.merge_results = merge_results
    composite_service.save()
    composite_service.members.all().delete()
    CompositeMember.objects.bulk_create(
        CompositeMember(composite=composite_service, item=item, position=position) for position, item in enumerate(items)
    )
    audit.record(actor=actor, action="catalogue.composite.save", target=composite_service,
                 after={"code": code, "name": name, "lead_department": lead_department.pk,
                        "items": [item.impl_code for item in items], "joint_limit_days": joint_limit_days,
                        "denial_rule": denial_rule, "merge_results": merge_results})
    return composite_service


@transaction.atomic
def composite_publish(*, actor: Any, composite_service: CompositeService) -> CompositeService:
    """Offer the composite to applicants; its members are checked again, as they are now."""
    if not may_publish(actor):
        raise PermissionDenied(_("只有平台管理员可以发布一件事。"))
    locked = CompositeService.objects.select_for_update().select_related("lead_department").get(
        pk=composite_service.pk)
    if locked.status != CompositeStatus.DRAFT:
        raise DomainError(_("只有草稿状态的一件事可以发布。"))
    items = [member.item for member in locked.members.select_related("item", "item__current_version")]
    problems = _composite_problems(lead_department=locked.lead_department, items=items,
                                   joint_limit_days=locked.joint_limit_days)
    if problems:
        raise InvalidInput(" ".join(problems), field="items")
    locked.status = CompositeStatus.PUBLISHED
    locked.published_at = timezone.now()
    locked.save(update_fields=["status", "published_at", "updated_at"])
    audit.record(actor=actor, action="catalogue.composite.publish", target=locked,
                 before={"status": CompositeStatus.DRAFT}, after={"status": locked.status})
    return locked


@transaction.atomic
def composite_withdraw(*, actor: Any, composite_service: CompositeService, reason: str) -> CompositeService:
    """Stop offering the composite; joint cases already filed go on."""
    if not may_publish(actor):
        raise PermissionDenied(_("只有平台管理员可以停用一件事。"))
    locked = CompositeService.objects.select_for_update().get(pk=composite_service.pk)
    if locked.status != CompositeStatus.PUBLISHED:
        raise DomainError(_("只有已发布的一件事可以停用。"))
    text = _required_text(reason, field="reason", message=_("请说明停用原因。"), max_length=500)
    locked.status = CompositeStatus.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="catalogue.composite.withdraw", target=locked,
                 before={"status": CompositeStatus.PUBLISHED}, after={"status": locked.status, "reason": text})
    return locked
