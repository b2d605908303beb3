"""The applicant portal for cases (办件), mounted at /cases/:

- apply online (网上申报): start a draft for a published item (in one's own name or an
  enterprise's), fill in the item's application form, attach files or e-licences per material,
  ask for 容缺 with a signed commitment, save and resume on any device, submit;
- my cases (我的办件): drafts to resume and filed cases with their deadlines; the case page
  with its timeline, documents (PDF), one-time notices to answer, 容缺 materials to hand in,
  withdrawal and the result;
- the public progress lookup (办件进度查询) by case number and query code, which the QR code
  on every document opens; failed lookups are capped per client address;
- filing by a village agent (代办) for a citizen.

Views are thin: they read through `selectors`, change through `services`, and show a service's
refusal (in Chinese, with its 4xx status) on the page where it happened. A page that changes
several things at once (files, then the form, then the submission) does so in one transaction,
so a refusal of any part keeps none of it.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.permissions import account_required, has_role, role_required
from onewindow.accounts.selectors import enterprise_links_of
from onewindow.cases import clock, documents, hooks, selectors, services
from onewindow.cases.choices import CLOCK_STATUSES, CaseStatus, DocumentKind, Urgency
from onewindow.cases.form_rows import form_rows
from onewindow.cases.forms import (
    AgentFilingForm,
    ProgressForm,
    StartForm,
    WithdrawForm,
    add_domain_error,
)
from onewindow.cases.models import Case
from onewindow.catalogue import selectors as catalogue_selectors
from onewindow.catalogue.formdef import (
    FormDefinition,
    FormErrors,
    data_from_post,
    field_name,
    version_form,
)
from onewindow.catalogue.guide import licence_type_name
from onewindow.core import files
from onewindow.core.errors import DomainError, InvalidInput, NotFound
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell
from onewindow.core.text import listing

PAGE_SIZE = 20
# 办件进度查询: failed lookups allowed per client address within the window, before every lookup
# from that address is refused until the window ends (a query code is 6 characters of 31).
PROGRESS_FAILURE_LIMIT = getattr(settings, "ONEWINDOW_PROGRESS_FAILURE_LIMIT", 10)
PROGRESS_FAILURE_WINDOW_SECONDS = getattr(settings, "ONEWINDOW_PROGRESS_FAILURE_WINDOW_SECONDS", 15 * 60)
MATERIAL_INPUT = "material-{key}"
LICENCE_SEPARATOR = "|"
# What the file pickers offer: the kinds `core.files` accepts.
ACCEPT = ",".join(f".{extension}" for kind in files.KINDS.values() for extension in kind.extensions)

COMMITMENT = gettext_lazy(
    "本人（本单位）申请容缺受理，承诺在窗口确定的补交期限内补交所列容缺材料，并对所提交材料的真实性负责；"
    "逾期未补交的，同意终止办理，已作出的审批结果不予发放；承诺不实的，依法承担相应责任。"
)

# The timeline an applicant sees: every event but the window's internal handling of a step.
INTERNAL_EVENTS = frozenset({"claim", "transfer", "record_visit"})
# Events whose note is addressed to the applicant (reasons, requests, results).
EVENTS_WITH_NOTES = frozenset({
    "request_supplement", "refuse", "decide", "withdraw", "terminate", "start_special", "end_special", "extend",
})
EXTRA_EVENT_LABELS = {
    "start": gettext_lazy("创建申请"),
    "file_at_window": gettext_lazy("窗口收件"),
    "file_by_agent": gettext_lazy("代办员代为申报"),
    "accept_on_receipt": gettext_lazy("逾期未处理，视为受理"),
}


# --- rendering ----------------------------------------------------------------------------------


domain_errors = refusals_as(problem_page("cases:mine", gettext_lazy("返回我的办件")))


@dataclass(frozen=True)
class Deadline:
    """What a case is waiting for and by when, as the applicant's list and page show it."""

    label: str
    due: Any
    remaining: int | None
    urgency: str
    urgency_label: str

    @property
    def overdue_days(self) -> int:
        return -self.remaining if self.remaining is not None and self.remaining < 0 else 0


def _deadline(case: Case | selectors.PublicProgress, today: Any) -> Deadline | None:
    if case.status == CaseStatus.SUBMITTED:
        label, due = _("受理期限"), case.acceptance_due
    elif case.status in CLOCK_STATUSES:
        label, due = _("承诺办结日期"), case.promised_due
    else:
        return None
    if due is None:
        return None
    urgency = clock.case_urgency(case, today=today)
    paused = urgency == Urgency.PAUSED
    remaining = None if paused else clock.remaining_days(due, today=today, region=case.region)
    return Deadline(label=label, due=due, remaining=remaining, urgency=urgency, urgency_label=Urgency(urgency).label)


@dataclass(frozen=True)
class CaseRow:
    case: Case
    deadline: Deadline | None


# --- apply online ---------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
@domain_errors
def apply(request: HttpRequest, impl_code: str) -> HttpResponse:
    """网上申报: the item, what to prepare, drafts already begun, and "start" (in one's own name
    or an enterprise's). Starting creates the draft on the server and opens it."""
    user = request.user
    item = catalogue_selectors.public_item(impl_code)
    enterprises = [link.enterprise for link in enterprise_links_of(user)] if user.kind != AccountKind.STAFF else []
    form = StartForm(enterprises, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            case = services.case_start(actor=user, item=item, enterprise=form.chosen_enterprise())
            messages.success(request, _("已创建申请草稿，填写过程中可随时保存，换一台设备登录也能继续填写。"))
            return redirect("cases:draft", pk=case.pk)
        status = 400
    return render_in_shell(request, "cases/portal/apply.html", {
        "item": item,
        "materials": item.current_version.content.get("materials", []),
        "form": form,
        "drafts": list(selectors.my_drafts(user, item=item)[:10]),
        "is_staff": user.kind == AccountKind.STAFF,
        "is_agent": has_role(user, Role.VILLAGE_AGENT),
    }, status=status)


def _material_names(case: Case) -> dict[str, str]:
    return {m["key"]: m.get("name", m["key"]) for m in case.version.content.get("materials", [])}


def _uploads(request: HttpRequest, case: Case, definition: FormDefinition) -> list[tuple[str, Any]]:
    """(material key, file) for every file chosen on the page: per material in the material
    list, and in the form's upload fields, which name the material they are."""
    chosen = [(key, upload) for key in _material_names(case)
              for upload in request.FILES.getlist(MATERIAL_INPUT.format(key=key))]
    for form_field in definition.fields:
        if form_field.type == "attachment" and form_field.material:
            chosen += [(form_field.material, upload) for upload in request.FILES.getlist(field_name(form_field.key))]
    return chosen


def _material_changes(request: HttpRequest, case: Case, definition: FormDefinition | None = None) -> int:
    """Apply the removal, licence link and uploads posted with a case's materials; returns how
    many were made. Runs inside the caller's transaction: a refused file keeps nothing."""
    user = request.user
    changes = 0
    removed = request.POST.get("remove")
    if removed:
        services.case_detach(actor=user, case=case, material=selectors.case_material(case, removed))
        changes += 1
    licence = request.POST.get("licence")
    if licence:
        key, _separator, number = licence.partition(LICENCE_SEPARATOR)
        services.case_attach(actor=user, case=case, material_key=key, licence_number=number)
        changes += 1
    names = _material_names(case)
    for key, upload in _uploads(request, case, definition or FormDefinition()):
        try:
            services.case_attach(actor=user, case=case, material_key=key, uploaded_file=upload)
        except DomainError as exc:
            # Say which material and which file was refused.
            message = _("“%(material)s”的文件“%(file)s”：%(reason)s") % {
                "material": names.get(key, key), "file": files.clean_filename(upload.name), "reason": exc.message}
            raise type(exc)(message, field=MATERIAL_INPUT.format(key=key)) from None
        changes += 1
    return changes


def _with_attachments(definition: FormDefinition, data: dict[str, Any], case: Case) -> dict[str, Any]:
    """The form as shown: its upload fields list the files attached to their material (the
    services fill them from the case on submission and ignore what a page posts for them)."""
    tokens = {row.key: [m.file.token for m in row.attached if m.file_id] for row in selectors.material_rows(case)}
    return {
        **data,
        **{f.key: tokens.get(f.material or "", []) for f in definition.fields if f.type == "attachment"},
    }


def _commitment(case: Case, actor: Any, keys: list[str]) -> str:
    """The 容缺 commitment as signed: the statement shown, the materials chosen, who signed."""
    names = _material_names(case)
    chosen = listing(names.get(key, key) for key in keys)
    signer = case.applicant.real_name or case.applicant.get_username()
    lines = [str(COMMITMENT), _("容缺材料：%(names)s") % {"names": chosen}, _("承诺人：%(name)s") % {"name": signer}]
    if actor.pk != case.applicant_id:
        lines.append(_("代为签署：%(name)s") % {"name": actor.real_name or actor.get_username()})
    return "\n".join(lines)


def _resubmitted(actor: Any, case: Case, key: str) -> Case | None:
    """The case, when a submission with `key` already went through (a second click that waited
    for the first, or a retry after a lost response); None otherwise."""
    current = selectors.my_case(actor, case.pk)
    if current.status == CaseStatus.DRAFT:
        return None
    try:
        return services.case_submit(actor=actor, case=current, idempotency_key=key)
    except DomainError:
        return None


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
@domain_errors
def draft(request: HttpRequest, pk: int) -> HttpResponse:
    """The application being written (or being corrected after a one-time notice): the form,
    the materials, 容缺, and save / submit. Every button also saves what was typed."""
    user = request.user
    case = selectors.my_case(user, pk)
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    key = request.POST.get("idempotency_key", "")
    if case.status not in (CaseStatus.DRAFT, CaseStatus.SUPPLEMENT):
        if action == "submit":
            # Submitted already: the same key gives the same case, another key is refused.
            submitted = services.case_submit(actor=user, case=case, idempotency_key=key)
            return redirect("cases:receipt", pk=submitted.pk)
        return redirect("cases:detail", pk=case.pk)
    definition = version_form(case.version)
    if request.method != "POST":
        return _render_draft(request, case, definition, data=case.form_data)
    posted = data_from_post(definition, request.POST)
    deferral = [value for value in request.POST.getlist("deferral") if value]
    submitting = action == "submit" and case.status == CaseStatus.DRAFT
    supplying = action == "supply" and case.status == CaseStatus.SUPPLEMENT
    try:
        with transaction.atomic():
            changes = _material_changes(request, case, definition)
            services.case_save_form(actor=user, case=case, data=posted)
            if submitting:
                signed = request.POST.get("sign_commitment") == "yes"
                commitment = _commitment(case, user, deferral) if deferral and signed else ""
                case = services.case_submit(actor=user, case=case, idempotency_key=key, deferral=deferral,
                                            commitment=commitment)
            elif supplying:
                case = services.case_supply(actor=user, case=case)
    except FormErrors as exc:
        return _render_draft(request, case, definition, data=posted, errors=exc.errors, problem=exc.message,
                             deferral=deferral, status=exc.status_code)
    except DomainError as exc:
        again = _resubmitted(user, case, key) if submitting else None
        if again is not None:
            return redirect("cases:receipt", pk=again.pk)
        return _render_draft(request, case, definition, data=posted, problem=exc.message, problem_field=exc.field,
                             deferral=deferral, status=exc.status_code)
    if submitting:
        return redirect("cases:receipt", pk=case.pk)
    if supplying:
        messages.success(request, _("补正材料已提交，窗口将在5个工作日内重新审查。"))
        return redirect("cases:detail", pk=case.pk)
    if request.POST.get("remove"):
        messages.success(request, _("已删除该材料，草稿已保存。"))
    elif changes:
        messages.success(request, _("材料已添加，草稿已保存。"))
    else:
        messages.success(request, _("草稿已保存。"))
    return redirect("cases:draft", pk=case.pk)


@dataclass(frozen=True)
class MaterialEntry:
    row: selectors.MaterialRow
    licence_type_name: str
    licences: list[hooks.LicenceRecord]
    error: str
    input_name: str


def _material_entries(case: Case, *, errors: dict[str, str] | None = None,
                      keys: Any = None) -> list[MaterialEntry]:
    entries = []
    for row in selectors.material_rows(case):
        if keys is not None and row.key not in keys:
            continue
        linked = {m.licence_number for m in row.attached if m.licence_number}
        offered = hooks.available_licences(case, licence_type=row.licence_type) if row.licence_type else []
        input_name = MATERIAL_INPUT.format(key=row.key)
        entries.append(MaterialEntry(
            row=row, licence_type_name=licence_type_name(row.licence_type) or row.licence_type,
            licences=[record for record in offered if record.number not in linked],
            error=(errors or {}).get(input_name, ""), input_name=input_name,
        ))
    return entries


def _render_draft(
    request: HttpRequest, case: Case, definition: FormDefinition, *, data: dict[str, Any],
    errors: dict[str, str] | None = None, problem: str = "", problem_field: str | None = None,
    deferral: list[str] | None = None, status: int = 200,
) -> HttpResponse:
    material_errors = {problem_field: problem} if problem_field and problem_field.startswith("material-") else {}
    entries = _material_entries(case, errors=material_errors)
    return render_in_shell(request, "cases/portal/draft.html", {
        "case": case,
        "definition": definition,
        "data": _with_attachments(definition, data, case),
        "errors": errors or {},
        "problem": problem,
        "materials": entries,
        "supplement": case.status == CaseStatus.SUPPLEMENT,
        "notice": selectors.open_supplement_notice(case) if case.status == CaseStatus.SUPPLEMENT else None,
        "deferrable": case.status == CaseStatus.DRAFT and any(entry.row.deferrable for entry in entries),
        "deferral": set(deferral if deferral is not None else case.deferral_requested),
        "commitment": COMMITMENT,
        # A new key for every rendering of the page: a double click or a resend of this page
        # submits once; the page shown again after a refusal gets a fresh one.
        "idempotency_key": uuid.uuid4().hex,
        "licence_separator": LICENCE_SEPARATOR,
        "accept": ACCEPT,
    }, status=status)


@require_safe
@account_required
@domain_errors
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """提交成功: the case number, the query code and the receipt (收件回执)."""
    case = selectors.my_case(request.user, pk)
    if not case.number:
        return redirect("cases:draft", pk=case.pk)
    receipt_document = case.documents.filter(kind=DocumentKind.RECEIPT).order_by("-id").first()
    return render_in_shell(request, "cases/portal/receipt.html", {
        "case": case, "receipt": receipt_document, "deadline": _deadline(case, timezone.localdate()),
    })


# --- my cases ------------------------------------------------------------------------------------


@require_safe
@account_required
def mine(request: HttpRequest) -> HttpResponse:
    """我的办件: drafts to resume, then filed cases with what each waits for and by when."""
    user = request.user
    today = timezone.localdate()
    page = Paginator(selectors.my_filed_cases(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render_in_shell(request, "cases/portal/mine.html", {
        "page": page,
        "rows": [CaseRow(case=case, deadline=_deadline(case, today)) for case in page],
        "drafts": list(selectors.my_drafts(user)[:PAGE_SIZE]),
        "joint_cases": list(selectors.my_joint_cases(user)[:PAGE_SIZE]),
        "is_agent": has_role(user, Role.VILLAGE_AGENT),
    })


@dataclass(frozen=True)
class TimelineEntry:
    at: Any
    label: str
    status_label: str
    note: str


def _timeline(case: Case) -> list[TimelineEntry]:
    labels = {action: transition.label for action, transition in services.CASE_LIFECYCLE.transitions.items()}
    labels.update(EXTRA_EVENT_LABELS)
    status_labels = dict(CaseStatus.choices)
    return [
        TimelineEntry(at=event.at, label=str(labels.get(event.action, event.action)),
                      status_label=str(status_labels.get(event.to_status, "")) if event.to_status != event.from_status
                      else "",
                      note=event.note if event.action in EVENTS_WITH_NOTES else "")
        for event in case.events.order_by("at", "id")
        if event.action not in INTERNAL_EVENTS
    ]


def _render_detail(request: HttpRequest, case: Case, *, problem: str = "", problem_field: str | None = None,
                   withdraw_form: WithdrawForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    actions = {t.action for t in services.CASE_LIFECYCLE.available(state=case.status, actor=user, obj=case)}
    notice = selectors.open_supplement_notice(case) if case.status == CaseStatus.SUPPLEMENT else None
    material_errors = {problem_field: problem} if problem_field and problem_field.startswith("material-") else {}
    notice_keys = {entry.get("material_key") for entry in (notice.missing if notice else []) if isinstance(entry, dict)}
    deferred = list(case.deferred_materials.all())
    outstanding = {d.material_key for d in deferred if d.supplied_at is None}
    return render_in_shell(request, "cases/portal/detail.html", {
        "case": case,
        "deadline": _deadline(case, timezone.localdate()),
        "problem": problem,
        "may_edit": "edit" in actions,
        "may_supply": "supply" in actions,
        "may_withdraw": "withdraw" in actions,
        "notice": notice,
        "notice_materials": _material_entries(case, errors=material_errors, keys=notice_keys) if notice else [],
        "notices": list(case.supplement_notices.order_by("id")),
        "deferred": deferred,
        "deferred_materials": (_material_entries(case, errors=material_errors, keys=outstanding)
                               if outstanding and "supply_deferred" in actions else []),
        "documents": list(case.documents.order_by("issued_at", "id")),
        "materials": selectors.material_rows(case),
        "form_rows": form_rows(case.version.content, case.form_data),
        "timeline": _timeline(case),
        "withdraw_form": withdraw_form or WithdrawForm(),
        "accept": ACCEPT,
        "licence_separator": LICENCE_SEPARATOR,
    }, status=status)


@require_safe
@account_required
@domain_errors
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page: status, deadlines, notices to answer, result, documents, timeline."""
    return _render_detail(request, selectors.my_case(request.user, pk))


@require_POST
@account_required
@domain_errors
def materials(request: HttpRequest, pk: int) -> HttpResponse:
    """Materials handed in from the case page: those a one-time notice asks for (then "submit
    supplements"), and 容缺 materials after acceptance."""
    user = request.user
    case = selectors.my_case(user, pk)
    supply = request.POST.get("action") == "supply"
    try:
        with transaction.atomic():
            changes = _material_changes(request, case)
            if supply:
                services.case_supply(actor=user, case=case)
    except DomainError as exc:
        return _render_detail(request, case, problem=exc.message, problem_field=exc.field, status=exc.status_code)
    if supply:
        messages.success(request, _("补正材料已提交，窗口将在5个工作日内重新审查。"))
    elif changes:
        messages.success(request, _("材料已提交。"))
    else:
        messages.warning(request, _("没有选择要上传的文件。"))
    return redirect("cases:detail", pk=case.pk)


@require_POST
@account_required
@domain_errors
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """撤回申请, with the reason, at any time before the decision."""
    user = request.user
    case = selectors.my_case(user, pk)
    form = WithdrawForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.case_withdraw(actor=user, case=case, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status_code
        else:
            messages.success(request, _("申请已撤回。"))
            return redirect("cases:detail", pk=case.pk)
    return _render_detail(request, case, withdraw_form=form, status=status)


@require_safe
@account_required
@domain_errors
def document(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """A document of the case as PDF, drawn from the facts frozen when it was issued."""
    found = selectors.my_document(request.user, pk, document_pk)
    pdf = documents.render_pdf(found, base_url=documents.base_url_from_request(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = files.content_disposition(f"{found.get_kind_display()}-{found.number}.pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- public progress lookup --------------------------------------------------------------------------


def _failures_key(request: HttpRequest) -> str:
    return f"cases.progress.failures:{request.META.get('REMOTE_ADDR') or 'unknown'}"


def _lookups_blocked(request: HttpRequest) -> bool:
    return (cache.get(_failures_key(request)) or 0) >= PROGRESS_FAILURE_LIMIT


def _count_failure(request: HttpRequest) -> None:
    """One more failed lookup from this address; the window runs from the first failure."""
    key = _failures_key(request)
    if cache.add(key, 1, PROGRESS_FAILURE_WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 1, PROGRESS_FAILURE_WINDOW_SECONDS)


@dataclass(frozen=True)
class Progress:
    """What anyone holding the number and query code may see: no name, no form, no material."""

    number: str
    item: str
    department: str
    status: str
    status_label: str
    submitted_at: Any
    accepted_at: Any
    completed_at: Any
    delivered_at: Any
    deadline: Deadline | None


def _progress(case: selectors.PublicProgress) -> Progress:
    return Progress(
        number=case.number, item=case.item_name, department=case.department_name, status=case.status,
        status_label=case.get_status_display(), submitted_at=case.submitted_at, accepted_at=case.accepted_at,
        completed_at=case.completed_at, delivered_at=case.delivered_at,
        deadline=_deadline(case, timezone.localdate()),
    )


@require_safe
def progress(request: HttpRequest) -> HttpResponse:
    """办件进度查询, public: a wrong query code gets the same answer as a wrong number, and an
    address that failed too often is refused for a while, right code or not."""
    asked = "number" in request.GET or "code" in request.GET
    form = ProgressForm(request.GET if asked else None)
    result, problem, status = None, "", 200
    if asked:
        if _lookups_blocked(request):
            minutes = max(1, PROGRESS_FAILURE_WINDOW_SECONDS // 60)
            problem, status = _("查询失败次数过多，请 %(minutes)s 分钟后再试。") % {"minutes": minutes}, 429
        elif form.is_valid():
            try:
                case = selectors.public_progress(form.cleaned_data["number"], form.cleaned_data["code"])
            except NotFound as exc:
                _count_failure(request)
                problem, status = exc.message, 404
            else:
                result = _progress(case)
        else:
            status = 400
    return render_in_shell(request, "cases/portal/progress.html", {"form": form, "result": result, "problem": problem},
                   status=status)


# --- village agents ----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(Role.VILLAGE_AGENT)
@domain_errors
def agent_file(request: HttpRequest) -> HttpResponse:
    """代办: an agent files for a citizen (identified by ID number and name) with the citizen's
    consent on record, then fills in the same application page."""
    user = request.user
    initial = {"impl_code": request.GET.get("item", "")[:36]}
    bound = request.method == "POST"
    form = AgentFilingForm(request.POST if bound else None, request.FILES if bound else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = catalogue_selectors.public_item(data["impl_code"])
            except NotFound as exc:
                form.add_error("impl_code", exc.message)
            else:
                try:
                    case = services.case_file_by_agent(
                        actor=user, item=item, id_number=data["id_number"], real_name=data["real_name"],
                        consent=data["consent"], consent_file=data["consent_file"],
                    )
                except InvalidInput as exc:
                    add_domain_error(form, exc, field_map={"file": "consent_file"})
                else:
                    messages.success(request, _("已为 %(name)s 创建申请草稿，请继续填写。") % {"name": data["real_name"]})
                    return redirect("cases:draft", pk=case.pk)
        status = 400
    return render_in_shell(request, "cases/portal/agent_file.html", {"form": form}, status=status)
