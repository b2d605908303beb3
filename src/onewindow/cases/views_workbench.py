"""Cases in the staff workbench (工作台): the queues of each role with live counters, the case
page with the actions the case lifecycle offers now, and window intake (窗口收件).

Thin views: reads through `selectors`, every change through `services`. A refusal shows the
page again with the service's message and its 4xx status, and changes nothing. Every action
form carries the id of the step it was rendered for: a page left open while a colleague moved
the case on is refused instead of acting on a step its user never saw.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST, require_safe

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import (
    active_assignments,
    role_required,
    staff_required,
)
from onewindow.cases import clock, selectors, services
from onewindow.cases.choices import (
    CaseStatus,
    Channel,
    Decision,
    DeliveryMethod,
    StepStatus,
    Urgency,
)
from onewindow.cases.form_rows import form_rows
from onewindow.cases.models import Case, CaseStep
from onewindow.catalogue.choices import CaseType, SpecialProcedureKind, StepKind
from onewindow.catalogue.formdef import (
    FormDefinition,
    FormErrors,
    data_from_post,
    field_name,
    initial_data,
    version_form,
)
from onewindow.core import files
from onewindow.core.errors import DomainError, InvalidInput, NotFound
from onewindow.core.refusals import problem_page, refusals_as

PER_PAGE = 50
SEARCH_MAX = 60
# Roles that work on review steps (the process template names one per step).
STEP_ROLES = (Role.WINDOW_CLERK, Role.REVIEWER, Role.APPROVER)
# Files a browser shows by itself: images in <img>, PDFs in its viewer.
PREVIEW_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
STALE_STEP = gettext_lazy("该环节已由他人办理，请刷新后查看。")


domain_errors = refusals_as(problem_page("cases_workbench:home", gettext_lazy("返回待办办件")))


# --- queues and counters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    name: str
    label: Any
    hint: Any
    roles: tuple[str, ...]  # whom it is for; anyone it holds something for sees it as well


QUEUES = {queue.name: queue for queue in (
    Queue("acceptance", gettext_lazy("待受理"),
          gettext_lazy("已提交、等待窗口受理的申请，受理期限最近的在前。"), (Role.WINDOW_CLERK,)),
    Queue("steps", gettext_lazy("待办环节"),
          gettext_lazy("您的角色可办理的审查环节：待认领的和您已认领的，环节期限最近的在前。"), STEP_ROLES),
    Queue("mine", gettext_lazy("我的环节"), gettext_lazy("您已认领、正在办理的环节。"), STEP_ROLES),
    Queue("paused", gettext_lazy("特别程序中"), gettext_lazy("正在进行特别程序、暂停计时的办件。"), STEP_ROLES),
    Queue("completion", gettext_lazy("待办结送达"),
          gettext_lazy("已作出决定待办结，以及已办结待送达的办件。"), (Role.WINDOW_CLERK,)),
    Queue("archive", gettext_lazy("待归档"),
          gettext_lazy("已送达、不予受理、撤回或终止，等待归档的办件。"), (Role.WINDOW_CLERK,)),
)}


@dataclass(frozen=True)
class Badge:
    queue: Queue
    count: int
    url: str
    current: bool


def _roles(actor: Any) -> set[str]:
    return set(active_assignments(actor).values_list("role", flat=True))


def _badges(actor: Any, current: str = "") -> list[Badge]:
    """One badge per queue the actor works on (or that holds something for them)."""
    counts = selectors.counters(actor)
    roles = _roles(actor)
    return [
        Badge(queue, getattr(counts, name), reverse("cases_workbench:queue", args=[name]), name == current)
        for name, queue in QUEUES.items()
        if getattr(counts, name) or roles & set(queue.roles) or name == current
    ]


def _counters_url(current: str = "") -> str:
    url = reverse("cases_workbench:counters")
    return f"{url}?{urlencode({'current': current})}" if current else url


@staff_required
@require_safe
def home_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    return render(request, "cases/workbench/home.html", {
        "badges": _badges(actor),
        "counters_url": _counters_url(),
        "is_clerk": Role.WINDOW_CLERK in _roles(actor),
        "drafts": list(selectors.window_drafts(actor)[:10]),
    })


@staff_required
@require_safe
def counters_view(request: HttpRequest) -> HttpResponse:
    """The badges alone, for the page to refresh when a case of the department changes."""
    current = request.GET.get("current", "")
    current = current if current in QUEUES else ""
    return render(request, "cases/workbench/counters.html", {"badges": _badges(request.user, current)})


@dataclass(frozen=True)
class Filters:
    item: int | None = None
    channel: str = ""
    urgency: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.item or self.channel or self.urgency or self.q)

    def query(self) -> str:
        """The filters as a query string for the pager links."""
        pairs = {"item": self.item or "", "channel": self.channel, "urgency": self.urgency, "q": self.q}
        return urlencode({key: value for key, value in pairs.items() if value})


def _filters(params: Mapping[str, str]) -> Filters:
    """What the filter form asked for; anything unknown is ignored rather than refused."""
    item = params.get("item", "")
    channel = params.get("channel", "")
    urgency = params.get("urgency", "")
    return Filters(
        item=int(item) if item.isdigit() and len(item) < 12 else None,
        channel=channel if channel in Channel.values else "",
        urgency=urgency if urgency in Urgency.values else "",
        q=" ".join(params.get("q", "").split())[:SEARCH_MAX],
    )


@dataclass(frozen=True)
class Row:
    """One line of a queue: the case (and the step, in the step queues) with its deadline."""

    case: Case
    step: CaseStep | None
    due: dt.date | None
    remaining: int | None
    urgency: str

    @property
    def urgency_label(self) -> str:
        return Urgency(self.urgency).label


def _case_due(case: Case) -> dt.date | None:
    if case.status == CaseStatus.SUBMITTED:
        return case.acceptance_due
    if case.status in (CaseStatus.IN_REVIEW, CaseStatus.SPECIAL):
        return case.promised_due
    return None


def _row(entry: Case | CaseStep, today: dt.date) -> Row:
    if isinstance(entry, CaseStep):
        case = entry.case
        return Row(case, entry, entry.due, clock.remaining_days(entry.due, today=today, region=case.region),
                   clock.urgency(entry.due, today=today, region=case.region))
    due = _case_due(entry)
    return Row(entry, None, due, clock.remaining_days(due, today=today, region=entry.region),
               clock.case_urgency(entry, today=today))


@staff_required
@domain_errors
@require_safe
def queue_view(request: HttpRequest, name: str) -> HttpResponse:
    actor = request.user
    queue = QUEUES.get(name)
    if queue is None:
        raise NotFound(_("没有这个待办队列。"))
    filters = _filters(request.GET)
    today = timezone.localdate()
    steps = name in selectors.STEP_QUEUES
    rows = selectors.filter_queue(selectors.queue(actor, name), steps=steps, item=filters.item,
                                  channel=filters.channel, urgency=filters.urgency, q=filters.q, today=today)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "cases/workbench/queue.html", {
        "queue": queue,
        "steps": steps,
        "page": page,
        "rows": [_row(entry, today) for entry in page.object_list],
        "filters": filters,
        "items": selectors.queue_items(actor),
        "channels": Channel.choices,
        "urgencies": Urgency.choices,
        "badges": _badges(actor, name),
        "counters_url": _counters_url(name),
    })


# --- the case page --------------------------------------------------------------------------------


# Timeline entries that are not lifecycle actions.
EVENT_LABELS = {
    "start": gettext_lazy("创建申请"),
    "file_at_window": gettext_lazy("窗口收件"),
    "file_by_agent": gettext_lazy("代办员代为申报"),
    "accept_on_receipt": gettext_lazy("逾期视为受理"),
}


@dataclass(frozen=True)
class TimelineEntry:
    event: Any
    label: Any
    from_status: Any
    to_status: Any

    @property
    def moved(self) -> bool:
        return bool(self.event.to_status) and self.event.from_status != self.event.to_status


def _event_label(action: str) -> Any:
    transition = services.CASE_LIFECYCLE.transitions.get(action)
    return transition.label if transition is not None else EVENT_LABELS.get(action, action)


# The lifecycle actions the workbench offers (the applicant's and the system's are elsewhere).
STAFF_ACTIONS = (
    "accept", "refuse", "request_supplement", "claim", "transfer", "pass_step", "return_step", "start_special",
    "end_special", "extend", "decide", "decide_on_spot", "complete", "deliver", "archive", "record_visit",
)
STEP_ACTIONS = frozenset({"claim", "transfer", "pass_step", "return_step", "start_special", "end_special", "decide"})


def _offered(
    case: Case, step: CaseStep | None, actor: Any, content: Mapping[str, Any], *, failed: str, error: str, post: Any
) -> dict[str, Any]:
    """The staff actions the lifecycle allows the actor now, each with what its form needs (and,
    for the one just refused, what was typed and why it was refused)."""
    available = {t.action: t for t in services.CASE_LIFECYCLE.available(state=case.status, actor=actor, obj=case)}
    other_holds = step is not None and step.status == StepStatus.CLAIMED and step.assignee_id != actor.pk
    procedures = [p for p in content.get("special_procedures", []) if p.get("kind") != SpecialProcedureKind.EXTENSION]
    extensions = [p for p in content.get("special_procedures", []) if p.get("kind") == SpecialProcedureKind.EXTENSION]
    targets = [(entry["key"], entry["name"]) for position, entry in enumerate(content.get("steps", []))
               if step is not None and 0 < position < step.position]
    methods = [(m, DeliveryMethod(m).label) for m in content.get("delivery_methods", []) if m in DeliveryMethod.values]
    days_left = max(max((p.get("max_days", 0) for p in extensions), default=0) - case.extension_days, 0)
    extra: dict[str, Any] = {
        "claim": step is not None and step.status == StepStatus.WAITING,
        "transfer": step is not None,
        "pass_step": step is not None and step.kind != StepKind.DECIDE and not other_holds,
        "decide": step is not None and step.kind == StepKind.DECIDE and not other_holds,
        "return_step": bool(targets) and not other_holds,
        "start_special": bool(procedures),
        "extend": days_left > 0,
        "decide_on_spot": content.get("case_type") == CaseType.IMMEDIATE,
        "deliver": bool(methods),
    }
    offered = {}
    for action in STAFF_ACTIONS:
        if action in available and extra.get(action, True):
            offered[action] = {
                "label": available[action].label,
                "url": reverse("cases_workbench:case_action", args=[case.pk, action]),
                "template": f"cases/workbench/actions/{action}.html",
                "values": post if action == failed else {},
                "error": error if action == failed else "",
            }
    return {"actions": offered, "procedures": procedures, "return_targets": targets, "delivery_methods": methods,
            "offers_post": DeliveryMethod.POST in dict(methods), "extension_days_left": days_left}


def _render_case(
    request: HttpRequest, case: Case, *, failed: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    actor = request.user
    today = timezone.localdate()
    content = case.version.content
    step = selectors.open_step(case)
    post = request.POST if failed else {}
    offered = _offered(case, step, actor, content, failed=failed, error=error, post=post)
    materials = selectors.material_rows(case)
    present = {row.key for row in materials if row.present}
    notices = list(case.supplement_notices.select_related("issued_by"))
    checklist = [{"row": row, "checked": bool(post.get(f"missing-{row.key}")) if post else False,
                  "reason": post.get(f"reason-{row.key}", "") if post else ""} for row in materials]
    free_reasons = list(post.getlist("free_reason")) if failed == "request_supplement" else []
    urgency = clock.case_urgency(case, today=today)
    step_urgency = clock.urgency(step.due, today=today, region=case.region) if step else ""
    statuses = dict(CaseStatus.choices)
    return render(request, "cases/workbench/case.html", {
        "case": case,
        "content": content,
        "urgency": urgency,
        "urgency_label": Urgency(urgency).label,
        "show_urgency": case.status in (CaseStatus.SUBMITTED, CaseStatus.IN_REVIEW, CaseStatus.SPECIAL),
        "acceptance_remaining": clock.remaining_days(case.acceptance_due, today=today, region=case.region)
        if case.status == CaseStatus.SUBMITTED else None,
        "promised_remaining": clock.remaining_days(case.promised_due, today=today, region=case.region)
        if case.status in (CaseStatus.IN_REVIEW, CaseStatus.SPECIAL) else None,
        "legal_remaining": clock.remaining_days(case.legal_due, today=today, region=case.region)
        if case.status in (CaseStatus.IN_REVIEW, CaseStatus.SPECIAL) else None,
        "step": step,
        "step_remaining": clock.remaining_days(step.due, today=today, region=case.region) if step else None,
        "step_urgency": step_urgency,
        "step_urgency_label": Urgency(step_urgency).label if step_urgency else "",
        "form_rows": form_rows(content, case.form_data),
        "materials": materials,
        "deferred": list(case.deferred_materials.all()),
        "documents": list(case.documents.all()),
        "notices": notices,
        "procedures_run": list(case.special_procedures.select_related("started_by", "ended_by")),
        "steps": list(case.steps.select_related("assignee")),
        "events": [TimelineEntry(event, _event_label(event.action), statuses.get(event.from_status, ""),
                                 statuses.get(event.to_status, ""))
                   for event in case.events.select_related("actor")],
        "decisions": Decision.choices,
        "colleagues": [u for u in selectors.step_colleagues(case, step) if u.pk != actor.pk]
        if "transfer" in offered["actions"] else [],
        "needs_deferred_due": any(key not in present for key in case.deferral_requested),
        "archived": case.status == CaseStatus.ARCHIVED,
        "checklist": checklist,
        "free_reasons": free_reasons + [""] * max(3 - len(free_reasons), 1),
        # Shown on top; the refused action's form (when it is still offered) repeats it.
        "error": error,
        "failed": failed,
        **offered,
    }, status=status)


@staff_required
@domain_errors
@require_safe
def case_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_for(request.user, pk)
    if case.status == CaseStatus.DRAFT and case.filed_by_id == request.user.pk:
        return redirect("cases_workbench:intake_case", pk=case.pk)
    return _render_case(request, case)


# --- actions ------------------------------------------------------------------------------------


def _date(value: Any, *, field_: str) -> dt.date | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("请填写有效的日期（年-月-日）。"), field=field_) from None


def _posted_step(case: Case, post: Any) -> CaseStep:
    """The step the form was rendered for; a form from before the case moved on is refused."""
    raw = (post.get("step") or "").strip()
    if not raw:
        raise InvalidInput(_("页面缺少环节信息，请刷新后再办理。"), field="step")
    step = selectors.case_step(case, raw)
    if step is None:
        raise DomainError(str(STALE_STEP))
    return step


def _still_open(case: Case, step: CaseStep) -> None:
    """For actions whose service does not take the step: the step must still be the open one."""
    current = selectors.open_step(case)
    if current is None or current.pk != step.pk:
        raise DomainError(str(STALE_STEP))


def _accept(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    accepted = services.case_accept(actor=actor, case=case,
                                    deferred_due=_date(post.get("deferred_due"), field_="deferred_due"))
    return _("已受理，承诺办结日期为 %(date)s。") % {"date": accepted.promised_due or "—"}


def _refuse(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    services.case_refuse(actor=actor, case=case, reasons=post.get("reasons", ""), basis=post.get("basis", ""))
    return _("已作出不予受理决定。")


def _request_supplement(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    missing = [{"material_key": material["key"], "reason": post.get(f"reason-{material['key']}", "")}
               for material in case.version.content.get("materials", [])
               if post.get(f"missing-{material['key']}")]
    missing += [{"material_key": "", "reason": text} for text in post.getlist("free_reason") if text.strip()]
    notice = services.case_request_supplement(actor=actor, case=case, missing=missing, note=post.get("note", ""))
    if notice.repeated:
        return _("已出具补正告知书。该申请此前已告知过补正，本次告知已报送监察。")
    return _("已一次性告知需要补正的全部内容。")


def _claim(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    claimed = services.step_claim(actor=actor, case=case, step=step)
    return _("已认领“%(step)s”环节。") % {"step": claimed.name}


def _transfer(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    target = (post.get("to") or "").strip()
    if not target:
        raise InvalidInput(_("请选择接收人。"), field="to")
    to = None
    if target != "pool":
        to = next((user for user in selectors.step_colleagues(case, step) if str(user.pk) == target), None)
        if to is None:
            raise InvalidInput(_("接收人没有办理该环节的权限。"), field="to")
    services.step_transfer(actor=actor, case=case, to=to, reason=post.get("reason", ""), step=step)
    if to is None:
        return _("已将该环节退回认领池。")
    return _("已转交 %(name)s 办理。") % {"name": to.real_name or to.get_username()}


def _pass_step(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    following = services.step_pass(actor=actor, case=case, opinion=post.get("opinion", ""), step=step)
    return _("本环节已通过，转入“%(step)s”。") % {"step": following.name}


def _return_step(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    reopened = services.step_return(actor=actor, case=case, to_key=post.get("to_key", ""),
                                    reason=post.get("reason", ""), step=step)
    return _("已退回“%(step)s”环节。") % {"step": reopened.name}


def _start_special(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    _still_open(case, step)
    run = services.case_start_special(actor=actor, case=case, name=post.get("name", ""), reason=post.get("reason", ""))
    return _("已启动“%(name)s”，暂停计时。") % {"name": run.name}


def _end_special(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    _still_open(case, step)
    run = services.case_end_special(actor=actor, case=case, result=post.get("result", ""))
    return _("“%(name)s”已结束，用时 %(days)s 个工作日，恢复计时。") % {"name": run.name, "days": run.days_used}


def _extend(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    raw = (post.get("days") or "").strip()
    if not raw.isdigit() or len(raw) > 3:
        raise InvalidInput(_("延长的工作日数须为正整数。"), field="days")
    services.case_extend(actor=actor, case=case, days=int(raw), reason=post.get("reason", ""))
    return _("已延长 %(days)s 个工作日。") % {"days": int(raw)}


def _decide(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    decided = services.case_decide(actor=actor, case=case, decision=post.get("decision", ""),
                                   opinion=post.get("opinion", ""), reasons=post.get("reasons", ""),
                                   basis=post.get("basis", ""), step=step)
    return _("已作出决定：%(decision)s。") % {"decision": decided.get_decision_display()}


def _decide_on_spot(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    decided = services.case_decide_on_spot(actor=actor, case=case, decision=post.get("decision", ""),
                                           opinion=post.get("opinion", ""), reasons=post.get("reasons", ""),
                                           basis=post.get("basis", ""))
    return _("已当场办结：%(decision)s。") % {"decision": decided.get_decision_display()}


def _complete(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    services.case_complete(actor=actor, case=case)
    return _("已办结，请按申请人选择的方式送达。")


def _deliver(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    delivered = services.case_deliver(
        actor=actor, case=case, method=post.get("method", ""), address=post.get("address", ""),
        recipient=post.get("recipient", ""), carrier=post.get("carrier", ""),
        tracking_number=post.get("tracking_number", ""),
    )
    return _("已送达（%(method)s）。") % {"method": delivered.get_delivery_method_display()}


def _archive(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    services.case_archive(actor=actor, case=case)
    return _("已归档，电子档案已生成。")


def _record_visit(actor: Any, case: Case, post: Any, step: CaseStep | None) -> str:
    visited = services.case_record_visit(actor=actor, case=case)
    return _("已登记到现场，累计跑动 %(n)s 次。") % {"n": visited.visits}


Handler = Callable[[Any, Case, Any, CaseStep | None], str]
HANDLERS: dict[str, Handler] = {
    "accept": _accept,
    "refuse": _refuse,
    "request_supplement": _request_supplement,
    "claim": _claim,
    "transfer": _transfer,
    "pass_step": _pass_step,
    "return_step": _return_step,
    "start_special": _start_special,
    "end_special": _end_special,
    "extend": _extend,
    "decide": _decide,
    "decide_on_spot": _decide_on_spot,
    "complete": _complete,
    "deliver": _deliver,
    "archive": _archive,
    "record_visit": _record_visit,
}


@require_POST
@staff_required
@domain_errors
def case_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action from the case page; a refusal shows the page again with the message."""
    actor = request.user
    handler = HANDLERS.get(action)
    if handler is None:
        raise Http404
    case = selectors.case_for(actor, pk)
    try:
        step = _posted_step(case, request.POST) if action in STEP_ACTIONS else None
        message = handler(actor, case, request.POST, step)
    except DomainError as exc:
        return _render_case(request, selectors.case_for(actor, pk), failed=action, error=exc.message,
                            status=exc.status_code)
    messages.success(request, message)
    return redirect("cases_workbench:case", pk=case.pk)


# --- files: material previews, documents, the archive package ----------------------------------


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = files.content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@staff_required
@domain_errors
@require_safe
@xframe_options_sameorigin
def material_preview_view(request: HttpRequest, pk: int, material_pk: int) -> HttpResponse:
    """A material file shown inline on the case page (a PDF in a frame of this site only). The
    same read rules as the download apply; other kinds are downloaded, never shown."""
    material = selectors.material_file(request.user, pk, material_pk)
    stored = files.file_for_download(actor=request.user, token=material.file.token)
    if stored.content_type not in PREVIEW_TYPES:
        raise NotFound(_("该文件不能在线预览，请下载后查看。"))
    try:
        handle = files.open_stored(stored)
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=stored.content_type)
    response["Content-Disposition"] = files.content_disposition(stored.original_name).replace(
        "attachment", "inline", 1)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    return response


@staff_required
@domain_errors
@require_safe
def document_pdf_view(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    from onewindow.cases import documents

    document = selectors.document_for(request.user, pk, document_pk)
    pdf = documents.render_pdf(document, base_url=documents.base_url_from_request(request))
    return _download(pdf, "application/pdf", f"{document.number}.pdf")


@staff_required
@domain_errors
@require_safe
def archive_export_view(request: HttpRequest, pk: int) -> HttpResponse:
    from onewindow.cases import archive, documents

    case = selectors.case_for(request.user, pk)
    package = archive.export_package(case, base_url=documents.base_url_from_request(request))
    return _download(package, "application/zip", archive.package_name(case))


# --- window intake (窗口收件) ---------------------------------------------------------------------


@role_required(Role.WINDOW_CLERK)
@domain_errors
def intake_view(request: HttpRequest) -> HttpResponse:
    """File an application for a person at the window: the item and their identity document."""
    actor = request.user
    items = selectors.window_items(actor)
    values = {"item": "", "id_number": "", "real_name": ""}
    error, status = "", 200
    if request.method == "POST":
        values = {name: (request.POST.get(name) or "").strip() for name in values}
        item = items.filter(pk=values["item"]).first() if values["item"].isdigit() else None
        try:
            if item is None:
                raise InvalidInput(_("请选择本部门已发布的事项。"), field="item")
            case = services.case_file_at_window(actor=actor, item=item, id_number=values["id_number"],
                                                real_name=values["real_name"])
        except DomainError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(request, _("已核验申请人身份，请填写申请表并上传材料。"))
            return redirect("cases_workbench:intake_case", pk=case.pk)
    return render(request, "cases/workbench/intake.html", {
        "items": items, "values": values, "error": error, "drafts": selectors.window_drafts(actor)[:20],
    }, status=status)


def _material_key(name: str) -> str:
    return f"material-{name}"


def _store_uploads(actor: Any, case: Case, definition: FormDefinition, data: dict[str, Any], uploads: Any) -> None:
    """Attach the scanned files: those chosen in the form's attachment fields (their tokens go
    into the form) and those chosen beside each material."""
    for form_field in definition.fields:
        if form_field.type != "attachment" or not form_field.material:
            continue
        for upload in uploads.getlist(field_name(form_field.key)):
            attached = services.case_attach(actor=actor, case=case, material_key=form_field.material,
                                            uploaded_file=upload)
            data[form_field.key] = [*(data.get(form_field.key) or []), attached.file.token]
    for material in case.version.content.get("materials", []):
        for upload in uploads.getlist(_material_key(material["key"])):
            services.case_attach(actor=actor, case=case, material_key=material["key"], uploaded_file=upload)


def _window_draft(actor: Any, pk: int) -> Case:
    """An application the actor filed at the window; None when it is no longer a draft."""
    case = selectors.case_for(actor, pk)
    if case.filed_by_id != actor.pk:
        raise NotFound(_("没有找到该办件。"))
    return case


def _render_intake(
    request: HttpRequest, case: Case, definition: FormDefinition, *, data: Any = None, form_errors: Any = None,
    error: str = "", status: int = 200,
) -> HttpResponse:
    applicant = case.applicant
    if data is None:
        known = {"applicant.real_name": applicant.real_name, "applicant.id_number": applicant.id_number,
                 "applicant.phone": applicant.phone}
        data = case.form_data or initial_data(definition, known)
    materials = selectors.material_rows(case)
    post = request.POST if request.method == "POST" else {}
    return render(request, "cases/workbench/intake_case.html", {
        "case": case,
        "definition": definition,
        "data": data,
        "form_errors": form_errors or {},
        "error": error,
        "materials": materials,
        "deferrable": [row for row in materials if row.deferrable],
        "deferral": post.getlist("deferral") if post else [],
        "commitment": post.get("commitment", "") if post else "",
        "deferred_due": post.get("deferred_due", "") if post else "",
        "idempotency_key": (post.get("idempotency_key") if post else "") or uuid.uuid4().hex,
        "immediate": case.version.content.get("case_type") == CaseType.IMMEDIATE,
    }, status=status)


@role_required(Role.WINDOW_CLERK)
@domain_errors
def intake_case_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Fill in the form and upload the scanned materials of an application filed at the window,
    then submit it and accept it at once (both or neither)."""
    actor = request.user
    case = _window_draft(actor, pk)
    if case.status != CaseStatus.DRAFT:
        return redirect("cases_workbench:case", pk=case.pk)
    definition = version_form(case.version)
    if request.method != "POST":
        return _render_intake(request, case, definition)
    data = data_from_post(definition, request.POST)
    try:
        # The files and the form together: a refused upload keeps neither.
        with transaction.atomic():
            _store_uploads(actor, case, definition, data, request.FILES)
            services.case_save_form(actor=actor, case=case, data=data)
    except DomainError as exc:
        return _render_intake(request, case, definition, data=data, error=exc.message, status=exc.status_code)
    if request.POST.get("action") != "submit":
        messages.success(request, _("已保存。"))
        return redirect("cases_workbench:intake_case", pk=case.pk)
    immediate = case.version.content.get("case_type") == CaseType.IMMEDIATE
    try:
        # Submitted and accepted in one go: a refused acceptance leaves the draft as it was. A
        # 即办件 is only submitted: the case page then offers the decision on the spot, which
        # accepts, decides and completes it at once.
        with transaction.atomic():
            submitted = services.case_submit(
                actor=actor, case=case, idempotency_key=request.POST.get("idempotency_key", ""),
                deferral=request.POST.getlist("deferral"), commitment=request.POST.get("commitment", ""),
            )
            if not immediate and submitted.status == CaseStatus.SUBMITTED:
                accepted = services.case_accept(actor=actor, case=submitted, deferred_due=_date(
                    request.POST.get("deferred_due"), field_="deferred_due"))
    except FormErrors as exc:
        return _render_intake(request, selectors.case_for(actor, pk), definition, data=data, form_errors=exc.errors,
                              error=exc.message, status=exc.status_code)
    except DomainError as exc:
        return _render_intake(request, selectors.case_for(actor, pk), definition, data=data, error=exc.message,
                              status=exc.status_code)
    if submitted.status == CaseStatus.COMPLETED:
        messages.success(request, _("申请已按审批规则自动办结，办件编号 %(number)s。") % {"number": submitted.number})
    elif immediate:
        messages.success(request, _("申请已提交，办件编号 %(number)s。即办件请当场作出决定。")
                         % {"number": submitted.number})
    else:
        messages.success(request, _("申请已提交并受理，办件编号 %(number)s，承诺办结日期 %(date)s。")
                         % {"number": accepted.number, "date": accepted.promised_due or "—"})
    return redirect("cases_workbench:case", pk=case.pk)


@require_POST
@role_required(Role.WINDOW_CLERK)
@domain_errors
def intake_detach_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove a file uploaded to an application filed at the window, before it is submitted."""
    actor = request.user
    case = _window_draft(actor, pk)
    if case.status != CaseStatus.DRAFT:
        return redirect("cases_workbench:case", pk=case.pk)
    try:
        material = selectors.case_material(case, request.POST.get("material"))
        services.case_detach(actor=actor, case=case, material=material)
    except DomainError as exc:
        definition = version_form(case.version)
        return _render_intake(request, case, definition, error=exc.message, status=exc.status_code)
    messages.success(request, _("已移除该文件。"))
    return redirect("cases_workbench:intake_case", pk=case.pk)
