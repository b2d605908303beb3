"""Every change to consultations and complaints: one keyword-only function per action, one
transaction, one audit entry, one entry in the request's history.

    received ──dispatch──▶ assigned ──answer──▶ answered ──rate──▶ closed
                             │ ▲ ▲                  │
              transfer/extend┘ │ └─────reopen───────┘   (unsatisfied: back to the department)
                               └ (routed on intake when a rule or the category names a department)

Intake comes from the portal (signed in or not), the mailbox, the 12345 operator's screen and
the Open311 API. A routing rule (category, item, region, keyword; lowest priority first) or the
category's default department takes the request at once; otherwise it waits for the hotline
centre to dispatch it. The answer is promised within working days on the region's calendar;
an extension adds working days with a reason; days past the due date are counted when the
answer is given. Anonymous intake is limited per address and per hour; accounts per account.
"""

import datetime as dt
import re
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import AccountKind
from onewindow.accounts.permissions import (
    is_platform_admin,
    staff_department_ids,
)
from onewindow.catalogue.models import ImplementationItem
from onewindow.complaints import reference, throttle
from onewindow.complaints.choices import (
    UNSATISFIED_RATINGS,
    Kind,
    Rating,
    Source,
    Status,
    UpdateKind,
)
from onewindow.complaints.models import (
    Complaint,
    ComplaintUpdate,
    Exposure,
    HotlineCentre,
    RoutingRule,
    SerialCounter,
    Topic,
)
from onewindow.core import audit, files, request_context, workdays
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.core.models import Department, Region
from onewindow.core.notifications import notify
from onewindow.core.periodic import sweep
from onewindow.core.text import clean_text
from onewindow.publicity.anonymise import anonymise

MAX_TITLE = 100
MAX_CONTENT = 4000  # Open311's limit for `description`
MAX_MEDIA = 5
MEDIA_KINDS = ("jpg", "png", "pdf")
MEDIA_PURPOSE = "complaint.media"
MAX_REOPEN = 2
MAX_PRIORITY = 32767
PRIORITY_STEP = (
    10  # gaps left between rules put in order, for a rule slotted in by hand
)
SWEEP_BATCH = 500
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def auto_close_days() -> int:
    """Days an answered request waits for the citizen's rating before it closes by itself."""
    return int(getattr(settings, "COMPLAINTS_AUTO_CLOSE_DAYS", 7))


# --- who may act -------------------------------------------------------------------------------------


def _is_user(actor: Any) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_active
    )


def operator_regions(actor: Any) -> list[str]:
    """The region paths of the hotline centres `actor` works at (a role in, or profile at, the
    centre's department)."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return []
    departments = set(staff_department_ids(actor))
    return [path for department_id, path in reference.current().centres if department_id in departments]


def is_operator(actor: Any, region: Region | None = None) -> bool:
    """A 12345 operator, for `region` when given (their centre serves it or a region above it),
    or a platform administrator. The centres are asked first: operators are the busy callers."""
    paths = operator_regions(actor)
    if any(region is None or region.path.startswith(path) for path in paths):
        return True
    return _is_user(actor) and is_platform_admin(actor)


def is_department_staff(actor: Any, complaint: Complaint) -> bool:
    return (
        _is_user(actor)
        and complaint.department_id is not None
        and complaint.department_id in staff_department_ids(actor)
    )


def _operator_of(actor: Any, complaint: Complaint) -> bool:
    return is_operator(actor, complaint.region)


def _handles(actor: Any, complaint: Complaint) -> bool:
    return is_department_staff(actor, complaint) or _operator_of(actor, complaint)


def _complainant_or_operator(actor: Any, complaint: Complaint) -> bool:
    own = _is_user(actor) and complaint.complainant_id == actor.pk
    return own or _operator_of(actor, complaint)


def _system(actor: Any, complaint: Complaint) -> bool:
    return actor is None


S = Status
COMPLAINT_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该诉求"),
    state_labels=dict(Status.choices),
    transitions=[
        Transition(
            "dispatch",
            frozenset({S.RECEIVED}),
            S.ASSIGNED,
            gettext_lazy("分派"),
            _operator_of,
        ),
        Transition(
            "transfer",
            frozenset({S.ASSIGNED}),
            S.ASSIGNED,
            gettext_lazy("转办"),
            _handles,
        ),
        Transition(
            "extend",
            frozenset({S.ASSIGNED}),
            None,
            gettext_lazy("申请延期"),
            is_department_staff,
        ),
        Transition(
            "answer",
            frozenset({S.ASSIGNED}),
            S.ANSWERED,
            gettext_lazy("答复"),
            is_department_staff,
        ),
        Transition(
            "rate",
            frozenset({S.ANSWERED}),
            S.CLOSED,
            gettext_lazy("评价"),
            _complainant_or_operator,
        ),
        Transition(
            "reopen",
            frozenset({S.ANSWERED}),
            S.ASSIGNED,
            gettext_lazy("要求重新办理"),
            _complainant_or_operator,
        ),
        Transition(
            "close", frozenset({S.ANSWERED}), S.CLOSED, gettext_lazy("办结"), _system
        ),
    ],
)


# --- input --------------------------------------------------------------------------------------------


_text = clean_text


def _coordinate(value: Any, field: str, limit: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("坐标格式不对。"), field=field) from None
    if not number.is_finite() or not -limit <= number <= limit:
        raise InvalidInput(_("坐标超出范围。"), field=field)
    return number.quantize(Decimal("0.000001"))


def _attributes(topic: Topic | None, values: Any) -> dict[str, Any]:
    """Check the category's extra fields (Open311 attributes): required ones given, list values
    among the keys offered, numbers numeric; unknown codes refused."""
    values = values or {}
    if not isinstance(values, dict):
        raise InvalidInput(_("附加信息格式不对。"), field="attributes")
    definitions = {
        a["code"]: a
        for a in (topic.attributes if topic else [])
        if a.get("variable", True)
    }
    unknown = [code for code in values if code not in definitions]
    if unknown:
        raise InvalidInput(
            _("没有这个附加信息项：%(codes)s。")
            % {"codes": "、".join(map(str, unknown))},
            field="attributes",
        )
    cleaned: dict[str, Any] = {}
    for code, definition in definitions.items():
        value = values.get(code)
        if value in (None, "", []):
            if definition.get("required"):
                raise InvalidInput(
                    _("请填写“%(name)s”。")
                    % {"name": definition.get("description", code)},
                    field="attributes",
                )
            continue
        keys = {str(option["key"]) for option in definition.get("values", [])}
        kind = definition.get("datatype", "string")
        chosen = value if isinstance(value, list) else [value]
        if kind in ("singlevaluelist", "multivaluelist"):
            if (kind == "singlevaluelist" and len(chosen) != 1) or any(
                str(v) not in keys for v in chosen
            ):
                raise InvalidInput(
                    _("“%(name)s”的取值无效。")
                    % {"name": definition.get("description", code)},
                    field="attributes",
                )
            cleaned[code] = (
                [str(v) for v in chosen] if kind == "multivaluelist" else str(chosen[0])
            )
        elif kind == "number":
            try:
                cleaned[code] = float(str(value))
            except ValueError:
                raise InvalidInput(
                    _("“%(name)s”应为数字。")
                    % {"name": definition.get("description", code)},
                    field="attributes",
                ) from None
        else:
            cleaned[code] = _text(
                str(value),
                field="attributes",
                message="",
                max_length=500,
                required=False,
            )
    return cleaned


def _default_region() -> Region:
    centre = HotlineCentre.objects.select_related("region").order_by("pk").first()
    if centre is None:
        raise InvalidInput(_("请选择所在行政区划。"), field="region")
    return centre.region


def _number(day: dt.date) -> str:
    """ "G20261209000123": the day and a daily serial. One upsert (PostgreSQL and SQLite ≥ 3.35),
    taken before the request's transaction opens, so it is a transaction of its own: the
    counter row is locked for that one statement, not for the whole intake, which every other
    intake of the day would queue behind. Numbers are unique and increase with time; one taken
    by an intake that then fails (a repeated idempotency key) is not used again."""
    table = connection.ops.quote_name(SerialCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
            f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [day],
        )
        serial = cursor.fetchone()[0]
    return f"G{day:%Y%m%d}{serial:06d}"


def _query_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(6))


# --- routing ------------------------------------------------------------------------------------------


def route(
    *, topic: Topic | None, item: ImplementationItem | None, region: Region, text: str
) -> tuple[Department | None, int, RoutingRule | None]:
    """The department, promised working days and matching rule for a request: the first active
    rule (by priority) all of whose conditions hold, else the category's default department."""
    default_days = (
        topic.promised_days
        if topic
        else int(getattr(settings, "COMPLAINTS_PROMISED_DAYS", 5))
    )
    topic_id, item_id = getattr(topic, "pk", None), getattr(item, "pk", None)
    for rule in reference.current().rules:
        if rule.topic_id is not None and rule.topic_id != topic_id:
            continue
        if rule.item_id is not None and rule.item_id != item_id:
            continue
        if rule.region_id and not region.path.startswith(rule.region.path):
            continue
        if rule.keyword and rule.keyword not in text:
            continue
        return rule.department, rule.promised_days or default_days, rule
    if topic is not None and topic.department_id and topic.department.is_active:
        return topic.department, default_days, None
    return None, default_days, None


def _due(
    start: dt.datetime | dt.date, days: int, region: Region
) -> tuple[dt.date, bool]:
    shifted = workdays.add_working_days(start, days, region=region)
    return shifted.date, shifted.confirmed


def _update(
    complaint: Complaint, actor: Any, kind: str, summary: str = ""
) -> ComplaintUpdate:
    return ComplaintUpdate(
        complaint=complaint,
        at=timezone.now(),
        actor=actor if _is_user(actor) else None,
        kind=kind,
        status=complaint.status,
        department=complaint.department,
        summary=summary,
    )


def _history(complaint: Complaint, actor: Any, kind: str, summary: str = "") -> None:
    _update(complaint, actor, kind, summary).save()


def _facts(complaint: Complaint) -> dict[str, Any]:
    return {
        "number": complaint.number,
        "status": complaint.status,
        "department": complaint.department_id,
        "due": str(complaint.due or ""),
        "kind": complaint.kind,
        "source": complaint.source,
    }


def _assign(
    complaint: Complaint, department: Department, days: int, start: dt.datetime
) -> None:
    complaint.department = department
    complaint.assigned_at = start
    complaint.handler = None
    complaint.promised_days = days
    complaint.due, complaint.due_confirmed = _due(
        start, days + complaint.extension_days, complaint.region
    )


# --- intake -------------------------------------------------------------------------------------------------


def _intake_source(actor: Any, source: str, operator: bool) -> str:
    if source not in Source.values:
        raise InvalidInput(_("来源无效。"), field="source")
    if source == Source.HOTLINE and not operator:
        raise PermissionDenied(_("只有12345热线话务员可以登记热线来电。"))
    if _is_user(actor) and actor.kind == AccountKind.STAFF and not operator:
        raise PermissionDenied(_("工作人员请通过12345热线中心登记诉求。"))
    return source


def _throttle(actor: Any, operator: bool) -> None:
    if operator:
        return
    if _is_user(actor):
        throttle.take(f"user:{actor.pk}", anonymous=False)
    else:
        throttle.take(
            f"ip:{request_context.client_ip.get() or 'unknown'}", anonymous=True
        )


def complaint_submit(
    *,
    actor: Any,
    kind: str,
    title: str,
    content: str,
    source: str = Source.PORTAL,
    topic: Topic | None = None,
    item: ImplementationItem | None = None,
    region: Region | None = None,
    address: str = "",
    lat: Any = None,
    long: Any = None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    respondent: str = "",
    attributes: dict | None = None,
    uploads: list | tuple = (),
    idempotency_key: str | None = None,
) -> Complaint:
    """Take a request in. Returns the earlier request when the same account retries with the
    same idempotency key. Refused: too many submissions, bad fields, files from someone not
    signed in, more than five files, files that are not what they claim (core.files)."""
    operator = is_operator(actor)
    source = _intake_source(actor, source, operator)
    if kind not in Kind.values:
        raise InvalidInput(_("请选择诉求类型。"), field="kind")
    key = None
    if idempotency_key:
        key = f"{actor.pk if _is_user(actor) else 'anonymous'}:{_text(idempotency_key, field='idempotency_key', message='', max_length=64)}"
    # A retry must not count against the hourly limit, so limited callers look for the first
    # submission before counting; operators are not limited and find it when the insert
    # meets the unique key, which spares every call a read.
    if key and not operator:
        earlier = Complaint.objects.filter(idempotency_key=key).first()
        if earlier is not None and _is_user(actor):
            return earlier
    _throttle(actor, operator)
    title = _text(title, field="title", message=_("请填写标题。"), max_length=MAX_TITLE)
    content = _text(
        content, field="content", message=_("请填写内容。"), max_length=MAX_CONTENT
    )
    if topic is not None and not (isinstance(topic, Topic) and topic.is_active):
        raise InvalidInput(_("诉求类别无效。"), field="topic")
    own = _is_user(actor) and actor.kind != AccountKind.STAFF
    contact_name = _text(
        contact_name or (actor.real_name if own else ""),
        field="contact_name",
        message="",
        max_length=50,
        required=False,
    )
    contact_phone = _text(
        contact_phone or (actor.phone if own else ""),
        field="contact_phone",
        message="",
        max_length=20,
        required=False,
    )
    contact_email = _text(
        contact_email, field="contact_email", message="", max_length=254, required=False
    )
    if not own and not (contact_phone or contact_email):
        raise InvalidInput(
            _("请留下联系电话或电子邮箱，以便答复。"), field="contact_phone"
        )
    uploads = list(uploads or [])
    if uploads and not _is_user(actor):
        raise InvalidInput(_("上传图片或附件请先登录。"), field="media")
    if len(uploads) > MAX_MEDIA:
        raise InvalidInput(
            _("最多上传 %(n)s 个文件。") % {"n": MAX_MEDIA}, field="media"
        )
    region = region if isinstance(region, Region) else _default_region()
    now = timezone.now()
    department, days, rule = route(
        topic=topic, item=item, region=region, text=f"{title}\n{content}"
    )
    complaint = Complaint(
        query_code=_query_code(),
        kind=kind,
        topic=topic,
        source=source,
        title=title,
        content=content,
        complainant=actor if own else None,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        respondent=_text(
            respondent, field="respondent", message="", max_length=100, required=False
        ),
        item=item if isinstance(item, ImplementationItem) else None,
        region=region,
        address=_text(
            address, field="address", message="", max_length=200, required=False
        ),
        lat=_coordinate(lat, "lat", 90),
        long=_coordinate(long, "long", 180),
        attributes=_attributes(topic, attributes),
        idempotency_key=key,
        received_at=now,
        received_by=actor if _is_user(actor) else None,
        promised_days=days,
    )
    if department is not None:
        complaint.status = Status.ASSIGNED
        _assign(complaint, department, days, now)
    complaint.number = _number(timezone.localdate(now))
    try:
        return _file(complaint, actor=actor, department=department, rule=rule, uploads=uploads)
    except IntegrityError:
        # A retry whose idempotency key is taken (an operator's, or a concurrent one): the first stands.
        earlier = Complaint.objects.filter(idempotency_key=key).first() if key else None
        if earlier is None:
            raise
        return earlier


@transaction.atomic
def _file(
    complaint: Complaint,
    *,
    actor: Any,
    department: Department | None,
    rule: RoutingRule | None,
    uploads: list,
) -> Complaint:
    """Write a request taken in, with its files, history and audit entry."""
    complaint.save()
    for upload in uploads:
        complaint.media.add(
            files.store_upload(
                actor=actor,
                uploaded_file=upload,
                purpose=MEDIA_PURPOSE,
                allowed_kinds=MEDIA_KINDS,
            )
        )
    updates = [_update(complaint, actor, UpdateKind.RECEIVED)]
    if department is not None:
        updates.append(_update(complaint, None, UpdateKind.DISPATCHED, department.name))
    ComplaintUpdate.objects.bulk_create(updates)
    audit.record(
        actor=actor,
        action="complaints.submit",
        target=complaint,
        after={**_facts(complaint), "rule": rule.pk if rule else None},
    )
    if complaint.complainant_id:
        notify(
            recipient=complaint.complainant,
            subject=_("诉求已受理：%(number)s") % {"number": complaint.number},
            body=_("您的诉求“%(title)s”已登记，编号 %(number)s，查询码 %(code)s。")
            % {
                "title": complaint.title,
                "number": complaint.number,
                "code": complaint.query_code,
            },
            channels=("inbox",),
            kind="complaints",
        )
    return complaint


# --- handling -------------------------------------------------------------------------------------------------


def _lock(complaint: Complaint) -> Complaint:
    found = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("region", "department", "complainant")
        .filter(pk=getattr(complaint, "pk", None))
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该诉求。"))
    return found


def _act(
    action: str, complaint: Complaint, actor: Any
) -> tuple[Complaint, Transition, str]:
    locked = _lock(complaint)
    transition = COMPLAINT_LIFECYCLE.check(
        action, state=locked.status, actor=actor, obj=locked
    )
    return locked, transition, locked.status


def _finish(
    locked: Complaint,
    actor: Any,
    action: str,
    kind: str,
    before: str,
    summary: str = "",
    **facts: Any,
) -> Complaint:
    locked.save()
    _history(locked, actor, kind, summary)
    audit.record(
        actor=actor,
        action=f"complaints.{action}",
        target=locked,
        before={"status": before},
        after={**_facts(locked), **facts},
    )
    return locked


def _department(value: Any) -> Department:
    if not isinstance(value, Department) or not value.is_active:
        raise InvalidInput(_("请选择启用中的承办单位。"), field="department")
    return value


@transaction.atomic
def complaint_dispatch(
    *,
    actor: Any,
    complaint: Complaint,
    department: Department,
    promised_days: int | None = None,
) -> Complaint:
    """The hotline centre sends a request no rule took to a department."""
    locked, transition, before = _act("dispatch", complaint, actor)
    department = _department(department)
    days = locked.promised_days if promised_days is None else promised_days
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
        raise InvalidInput(_("承诺时限应为 1 到 60 个工作日。"), field="promised_days")
    locked.status = transition.target
    _assign(locked, department, days, timezone.now())
    return _finish(
        locked, actor, "dispatch", UpdateKind.DISPATCHED, before, department.name
    )


@transaction.atomic
def complaint_transfer(
    *, actor: Any, complaint: Complaint, department: Department, reason: str
) -> Complaint:
    """转办: not this department's matter; it goes to another, which answers by the same date
    (the promise runs from intake)."""
    locked, _transition, before = _act("transfer", complaint, actor)
    department = _department(department)
    if department.pk == locked.department_id:
        raise InvalidInput(_("请选择其他承办单位。"), field="department")
    reason = _text(
        reason, field="reason", message=_("请填写转办理由。"), max_length=1000
    )
    locked.department = department
    locked.handler = None
    return _finish(
        locked,
        actor,
        "transfer",
        UpdateKind.TRANSFERRED,
        before,
        _("转至%(department)s：%(reason)s")
        % {"department": department.name, "reason": reason},
    )


@transaction.atomic
def complaint_extend(
    *, actor: Any, complaint: Complaint, days: int, reason: str
) -> Complaint:
    """延期: more working days with a reason; all extensions together at most the promised limit."""
    locked, _transition, before = _act("extend", complaint, actor)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise InvalidInput(_("延期天数应为正整数。"), field="days")
    if locked.extension_days + days > locked.promised_days:
        raise InvalidInput(
            _("累计延期不能超过承诺时限（%(n)s 个工作日）。")
            % {"n": locked.promised_days},
            field="days",
        )
    reason = _text(
        reason, field="reason", message=_("请填写延期原因。"), max_length=1000
    )
    locked.extension_days += days
    locked.extension_reason = "\n".join(filter(None, [locked.extension_reason, reason]))
    locked.due, locked.due_confirmed = _due(locked.due, days, locked.region)
    locked.handler = actor
    return _finish(
        locked,
        actor,
        "extend",
        UpdateKind.EXTENDED,
        before,
        _("延期 %(n)s 个工作日：%(reason)s") % {"n": days, "reason": reason},
        days=days,
    )


def overdue_days(complaint: Complaint, on: dt.date) -> int:
    """Working days past the due date on `on` (0 when not late)."""
    if complaint.due is None or on <= complaint.due:
        return 0
    return max(
        0,
        workdays.working_days_between(complaint.due, on, region=complaint.region).days,
    )


@transaction.atomic
def complaint_answer(*, actor: Any, complaint: Complaint, answer: str) -> Complaint:
    """答复: the department's answer; the days past the due date are counted now."""
    locked, transition, before = _act("answer", complaint, actor)
    locked.answer = _text(
        answer, field="answer", message=_("请填写答复意见。"), max_length=MAX_CONTENT
    )
    now = timezone.now()
    locked.status = transition.target
    locked.answered_at = now
    locked.answered_by = actor
    locked.handler = actor
    locked.overdue_days = overdue_days(locked, timezone.localdate(now))
    if locked.complainant_id:
        notify(
            recipient=locked.complainant,
            subject=_("诉求已答复：%(number)s") % {"number": locked.number},
            body=_("您的诉求“%(title)s”已答复，请查看并评价。")
            % {"title": locked.title},
            channels=("inbox", "sms") if locked.complainant.phone else ("inbox",),
            kind="complaints",
        )
    return _finish(
        locked,
        actor,
        "answer",
        UpdateKind.ANSWERED,
        before,
        locked.answer,
        overdue_days=locked.overdue_days,
    )


@transaction.atomic
def complaint_rate(
    *, actor: Any, complaint: Complaint, rating: int, comment: str = ""
) -> Complaint:
    """The citizen rates the answer (or the operator records the rating given on a call-back);
    the request closes. An unsatisfied citizen may ask to reopen instead."""
    locked, transition, before = _act("rate", complaint, actor)
    if (
        not isinstance(rating, int)
        or isinstance(rating, bool)
        or rating not in Rating.values
    ):
        raise InvalidInput(
            _("满意度应为 1（非常满意）到 5（非常不满意）之一。"), field="rating"
        )
    locked.rating_comment = _text(
        comment,
        field="comment",
        message=_("请写明不满意的原因。"),
        max_length=1000,
        required=rating in UNSATISFIED_RATINGS,
    )
    now = timezone.now()
    locked.rating = rating
    locked.rated_at = now
    locked.status = transition.target
    locked.closed_at = now
    return _finish(
        locked,
        actor,
        "rate",
        UpdateKind.RATED,
        before,
        Rating(rating).label,
        rating=rating,
    )


@transaction.atomic
def complaint_reopen(*, actor: Any, complaint: Complaint, reason: str) -> Complaint:
    """Unsatisfied with the answer: back to the same department with a fresh promised limit."""
    locked, transition, before = _act("reopen", complaint, actor)
    if locked.reopen_count >= MAX_REOPEN:
        raise DomainError(
            _("已重新办理 %(n)s 次，不能再次要求重新办理；可拨打12345热线反映。")
            % {"n": MAX_REOPEN}
        )
    reason = _text(
        reason, field="reason", message=_("请写明不满意的原因。"), max_length=1000
    )
    now = timezone.now()
    locked.status = transition.target
    locked.reopen_count += 1
    locked.extension_days = 0
    locked.answer = ""
    locked.answered_at = None
    locked.overdue_days = 0
    _assign(locked, locked.department, locked.promised_days, now)
    return _finish(locked, actor, "reopen", UpdateKind.REOPENED, before, reason)


@transaction.atomic
def complaint_close(*, complaint: Complaint) -> Complaint:
    """The answer stood unrated for `auto_close_days` days: the request closes."""
    locked, transition, before = _act("close", complaint, None)
    locked.status = transition.target
    locked.closed_at = timezone.now()
    return _finish(locked, None, "close", UpdateKind.CLOSED, before)


@sweep(every_seconds=3600)
def complaints_sweep() -> int:
    cutoff = timezone.now() - dt.timedelta(days=auto_close_days())
    due = Complaint.objects.filter(
        status=Status.ANSWERED, answered_at__lte=cutoff
    ).order_by("pk")
    closed = 0
    for complaint in due.only("pk")[:SWEEP_BATCH]:
        try:
            complaint_close(complaint=complaint)
        except DomainError:  # rated or reopened meanwhile
            continue
        closed += 1
    return closed


# --- exposure (曝光纠错) ---------------------------------------------------------------------------------------


@transaction.atomic
def exposure_publish(
    *, actor: Any, complaint: Complaint, title: str, problem: str, result: str
) -> Exposure:
    """Publish a resolved request in the exposure column. Names, phone numbers, ID numbers and
    e-mail addresses are taken out of the text, whoever wrote it."""
    locked = _lock(complaint)
    if not _operator_of(actor, locked):
        raise PermissionDenied(_("只有12345热线中心可以发布曝光纠错。"))
    if locked.status != Status.CLOSED:
        raise DomainError(_("办结后才能公开。"))
    if Exposure.objects.filter(complaint=locked).exists():
        raise DomainError(_("该诉求已公开。"))
    names = [locked.contact_name, locked.respondent]
    if locked.complainant_id:
        names.append(locked.complainant.real_name)
    exposure = Exposure.objects.create(
        complaint=locked,
        title=anonymise(
            _text(
                title, field="title", message=_("请填写标题。"), max_length=MAX_TITLE
            ),
            names=names,
        ),
        problem=anonymise(
            _text(
                problem,
                field="problem",
                message=_("请填写问题。"),
                max_length=MAX_CONTENT,
            ),
            names=names,
        ),
        result=anonymise(
            _text(
                result,
                field="result",
                message=_("请填写整改结果。"),
                max_length=MAX_CONTENT,
            ),
            names=names,
        ),
        department_name=locked.department.name,
        published_at=timezone.now(),
        published_by=actor,
    )
    audit.record(
        actor=actor,
        action="complaints.exposure.publish",
        target=exposure,
        after={"complaint": locked.number},
    )
    return exposure


# --- reference data: categories, centres and routing rules ---------------------------------------------------


def may_keep_topics(actor: Any) -> bool:
    """Categories are kept by platform administrators."""
    return _is_user(actor) and is_platform_admin(actor)


def may_keep_rules(actor: Any) -> bool:
    """Routing rules are kept by the 12345 centres (and platform administrators)."""
    return is_operator(actor)


def _may_configure(actor: Any) -> None:
    if not may_keep_rules(actor):
        raise PermissionDenied(_("只有12345热线中心或平台管理员可以维护分派规则。"))


DATATYPES = (
    "string",
    "number",
    "datetime",
    "text",
    "singlevaluelist",
    "multivaluelist",
)


def _is_definition(attribute: Any) -> bool:
    """An Open311 attribute definition: a code, a known datatype, and for lists, values that
    each have a key."""
    if not isinstance(attribute, dict) or not isinstance(attribute.get("code"), str):
        return False
    if not attribute["code"] or attribute.get("datatype") not in DATATYPES:
        return False
    values = attribute.get("values", [])
    return isinstance(values, list) and all(
        isinstance(value, dict) and str(value.get("key", "")) for value in values
    )


@transaction.atomic
def topic_save(
    *,
    actor: Any,
    code: str,
    name: str,
    department: Department | None = None,
    promised_days: int = 5,
    group: str = "",
    description: str = "",
    keywords: str = "",
    attributes: list | None = None,
    is_active: bool = True,
) -> Topic:
    """Create or change a category (found by its code)."""
    if actor is not None and not may_keep_topics(actor):
        raise PermissionDenied(_("只有平台管理员可以维护诉求类别。"))
    if not isinstance(promised_days, int) or not 1 <= promised_days <= 60:
        raise InvalidInput(_("承诺时限应为 1 到 60 个工作日。"), field="promised_days")
    if not isinstance(attributes or [], list) or not all(
        _is_definition(attribute) for attribute in attributes or []
    ):
        raise InvalidInput(_("附加信息项定义不对。"), field="attributes")
    if not isinstance(code, str) or not re.fullmatch(r"[-a-zA-Z0-9_]{1,40}", code):
        raise InvalidInput(
            _("类别代码应为1至40位字母、数字、连字符或下划线。"), field="code"
        )
    topic, created = Topic.objects.update_or_create(
        code=code,
        defaults={
            "name": _text(
                name, field="name", message=_("请填写类别名称。"), max_length=100
            ),
            "department": department,
            "promised_days": promised_days,
            "group": group,
            "description": description,
            "keywords": keywords,
            "attributes": attributes or [],
            "is_active": is_active,
        },
    )
    reference.changed()
    audit.record(
        actor=actor,
        action="complaints.topic.save",
        target=topic,
        after={
            "code": code,
            "department": getattr(department, "pk", None),
            "created": created,
        },
    )
    return topic


@transaction.atomic
def topic_set_active(*, actor: Any, topic: Topic, is_active: bool) -> Topic:
    """Open or close a category for new requests, leaving the rest of it as it is."""
    current = Topic.objects.filter(pk=getattr(topic, "pk", None)).first()
    if current is None:
        raise NotFound(_("没有找到该诉求类别。"))
    return topic_save(
        actor=actor,
        code=current.code,
        name=current.name,
        department=current.department,
        promised_days=current.promised_days,
        group=current.group,
        description=current.description,
        keywords=current.keywords,
        attributes=current.attributes,
        is_active=bool(is_active),
    )


@transaction.atomic
def centre_save(*, actor: Any, department: Department, region: Region) -> HotlineCentre:
    if actor is not None and not (_is_user(actor) and is_platform_admin(actor)):
        raise PermissionDenied(_("只有平台管理员可以设置12345热线中心。"))
    centre, _created = HotlineCentre.objects.update_or_create(
        department=department, defaults={"region": region}
    )
    reference.changed()
    audit.record(
        actor=actor,
        action="complaints.centre.save",
        target=centre,
        after={"department": department.pk, "region": region.code},
    )
    return centre


@transaction.atomic
def routing_rule_save(
    *,
    actor: Any,
    department: Department,
    priority: int = 100,
    topic: Topic | None = None,
    item: ImplementationItem | None = None,
    region: Region | None = None,
    keyword: str = "",
    promised_days: int | None = None,
    is_active: bool = True,
    rule: RoutingRule | None = None,
) -> RoutingRule:
    """Create (no `rule`) or change a routing rule; a rule needs at least one condition."""
    _may_configure(actor)
    department = _department(department)
    keyword = _text(keyword, field="keyword", message="", max_length=50, required=False)
    if topic is None and item is None and region is None and not keyword:
        raise InvalidInput(
            _("规则至少要有一个条件：类别、事项、区划或关键词。"), field="keyword"
        )
    if (
        not isinstance(priority, int)
        or isinstance(priority, bool)
        or not 0 <= priority <= MAX_PRIORITY
    ):
        raise InvalidInput(_("优先级应为 0 到 32767 的整数。"), field="priority")
    if promised_days is not None and (
        not isinstance(promised_days, int) or not 1 <= promised_days <= 60
    ):
        raise InvalidInput(_("承诺时限应为 1 到 60 个工作日。"), field="promised_days")
    fields = {
        "department": department,
        "priority": priority,
        "topic": topic,
        "item": item,
        "region": region,
        "keyword": keyword,
        "promised_days": promised_days,
        "is_active": bool(is_active),
    }
    before: dict[str, Any] = {}
    if rule is None:
        saved = RoutingRule.objects.create(**fields)
    else:
        saved = RoutingRule.objects.select_for_update().get(pk=rule.pk)
        before = {
            "department": saved.department_id,
            "keyword": saved.keyword,
            "is_active": saved.is_active,
        }
        for name, value in fields.items():
            setattr(saved, name, value)
        saved.save()
    reference.changed()
    audit.record(
        actor=actor,
        action="complaints.rule.save",
        target=saved,
        before=before,
        after={
            "department": department.pk,
            "priority": priority,
            "topic": getattr(topic, "pk", None),
            "item": getattr(item, "pk", None),
            "region": getattr(region, "code", None),
            "keyword": keyword,
            "is_active": saved.is_active,
        },
    )
    return saved


@transaction.atomic
def routing_rule_set_active(
    *, actor: Any, rule: RoutingRule, is_active: bool
) -> RoutingRule:
    """Start or stop applying a rule, leaving its conditions as they are."""
    current = RoutingRule.objects.filter(pk=getattr(rule, "pk", None)).first()
    if current is None:
        raise NotFound(_("没有找到该规则。"))
    return routing_rule_save(
        actor=actor,
        rule=current,
        department=current.department,
        priority=current.priority,
        topic=current.topic,
        item=current.item,
        region=current.region,
        keyword=current.keyword,
        promised_days=current.promised_days,
        is_active=bool(is_active),
    )


@transaction.atomic
def routing_rules_reorder(*, actor: Any, order: list[int]) -> list[RoutingRule]:
    """Put every rule in the order given (their ids, first tried first): the priorities become
    10, 20, 30… `order` must name each rule once, so that a list read before someone else
    added or deleted a rule is refused (409) rather than applied to rules it did not show."""
    _may_configure(actor)
    rules = {rule.pk: rule for rule in RoutingRule.objects.select_for_update()}
    if (
        not isinstance(order, list)
        or not all(type(pk) is int for pk in order)
        or sorted(order) != sorted(rules)
    ):
        raise DomainError(_("分派规则已被他人修改，请刷新后重试。"))
    before = [
        rule.pk for rule in sorted(rules.values(), key=lambda r: (r.priority, r.pk))
    ]
    step = PRIORITY_STEP if len(order) * PRIORITY_STEP <= MAX_PRIORITY else 1
    for position, pk in enumerate(order, start=1):
        rule = rules[pk]
        if rule.priority != position * step:
            rule.priority = position * step
            rule.save(update_fields=["priority", "updated_at"])
    reference.changed()
    audit.record(
        actor=actor,
        action="complaints.rule.reorder",
        object_type=RoutingRule._meta.label_lower,
        before={"order": before},
        after={"order": order},
    )
    return [rules[pk] for pk in order]


@transaction.atomic
def routing_rule_delete(*, actor: Any, rule: RoutingRule) -> None:
    _may_configure(actor)
    found = RoutingRule.objects.filter(pk=getattr(rule, "pk", None)).first()
    if found is None:
        raise NotFound(_("没有找到该规则。"))
    audit.record(
        actor=actor,
        action="complaints.rule.delete",
        target=found,
        before={"department": found.department_id, "keyword": found.keyword},
    )
    found.delete()
    reference.changed()
