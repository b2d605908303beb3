"""Electronic supervision on the web (mounted at /supervision/): the live board of the region with
the red list first, a department's red/yellow list, the drill-down to a case and its audit
trail, supervision items and notices (督办), denial filings, spot checks, supervision records and
staff performance figures, and the configuration of the rules and the items' warning
thresholds.

Thin views: reads through `selectors`, every change through `services`. A refusal is shown with
the service's message and its 4xx status and changes nothing; a successful POST redirects.
Supervisors work in the supervision shell; a department's staff answer notices addressed to
their department in the workbench shell.
"""

import datetime as dt
import re
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import (
    is_platform_admin,
    role_required,
    staff_required,
)
from onewindow.core.errors import DomainError, InvalidInput, NotFound
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell
from onewindow.supervision import clock, selectors, services
from onewindow.supervision.choices import (
    DEFAULT_NEAR_DAYS,
    DEFAULT_NEAR_PERCENT,
    DenialOutcome,
    ItemStatus,
    NoticeStatus,
    RuleCode,
    SignalKind,
)
from onewindow.supervision.colours import DEFAULT_THRESHOLD, Threshold
from onewindow.supervision.forms import ItemSettingForm, RuleForm, parameter_label
from onewindow.supervision.models import SupervisionNotice, SupervisionRule

MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.PLATFORM_ADMIN)
# Who reads the items' thresholds: supervisors (their regions' items) and those who set them.
THRESHOLD_READER_ROLES = (Role.SUPERVISOR, Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN)
THRESHOLD_LIST_LIMIT = 100
GET_OR_POST = ("GET", "HEAD", "POST")

supervisor_required = role_required(*SUPERVISOR_ROLES)
platform_admin_required = role_required(Role.PLATFORM_ADMIN)
threshold_reader_required = role_required(*THRESHOLD_READER_ROLES)
domain_errors = refusals_as(
    problem_page("supervision:warnings", gettext_lazy("返回监察看板"))
)


def _id(value: Any) -> int | None:
    text = value if isinstance(value, str) else ""
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _day(value: Any) -> dt.date | None:
    text = value.strip() if isinstance(value, str) else ""
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if re.fullmatch(r"[0-9]{1,6}", text) else None


# --- the board and the lists ---------------------------------------------------------------------


@require_safe
@supervisor_required
@domain_errors
def board_view(request: HttpRequest) -> HttpResponse:
    """The live board of the region: counts by colour, by department and by item, and the red
    list; htmx refreshes the board part every 30 seconds."""
    regions = list(selectors.supervised_regions(request.user))
    code = request.GET.get("region") or ""
    region = selectors.supervised_region(request.user, code) if code else None
    board = selectors.board(request.user, region=region)
    context = {
        "board": board,
        "regions": regions,
        "region": region,
        "today": clock.today(),
    }
    if request.htmx:
        return render(request, "supervision/_board.html", context)
    return render(request, "supervision/board.html", context)


@require_safe
@supervisor_required
@domain_errors
def department_warnings_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The red/yellow list of one department (cases and steps), the most overdue first."""
    department = selectors.supervised_department(request.user, pk)
    kind = (
        request.GET.get("kind")
        if request.GET.get("kind") in SignalKind.values
        else None
    )
    signals = selectors.warning_list(request.user, department=department, kind=kind)
    return render(
        request,
        "supervision/department.html",
        {
            "department": department,
            "signals": signals,
            "kind": kind,
            "today": clock.today(),
            "events": selectors.events(request.user, department=department, limit=50),
        },
    )


@require_safe
@supervisor_required
@domain_errors
def case_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Drill-down: the case, its steps, timeline and audit trail, and what supervision recorded."""
    trail = selectors.case_trail(request.user, pk)
    return render(
        request,
        "supervision/case.html",
        {"trail": trail, "tomorrow": clock.today() + dt.timedelta(days=1)},
    )


@require_safe
@supervisor_required
@domain_errors
def joint_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Drill-down of a joint case: its own signal and every member case with its colour."""
    return render(
        request,
        "supervision/joint.html",
        {"trail": selectors.joint_trail(request.user, pk)},
    )


@require_safe
@supervisor_required
def events_view(request: HttpRequest) -> HttpResponse:
    return render(
        request, "supervision/events.html", {"events": selectors.events(request.user)}
    )


# --- supervision items and notices ---------------------------------------------------------------


@require_safe
@supervisor_required
def items_view(request: HttpRequest) -> HttpResponse:
    status = (
        request.GET.get("status")
        if request.GET.get("status") in ItemStatus.values
        else ""
    )
    return render(
        request,
        "supervision/items.html",
        {
            "items": selectors.items(request.user, status=status),
            "status": status,
            "statuses": ItemStatus.choices,
        },
    )


@require_safe
@supervisor_required
@domain_errors
def item_view(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.item(request.user, pk)
    return render(
        request,
        "supervision/item.html",
        {
            "item": found,
            "notices": list(found.notices.all()),
            "tomorrow": clock.today() + dt.timedelta(days=1),
        },
    )


@require_POST
@supervisor_required
@domain_errors
def notice_issue_view(request: HttpRequest) -> HttpResponse:
    """Issue a notice from a case page or an item page (the form says which)."""
    item = case = None
    item_id, case_id = _id(request.POST.get("item")), _id(request.POST.get("case"))
    if item_id:
        item = selectors.item(request.user, item_id)
    if case_id:
        case = selectors.case_trail(request.user, case_id).case
    back = request.POST.get("back") or ""
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts=None
    ) or not back.startswith("/"):
        back = ""
    department = _id(request.POST.get("department"))
    try:
        notice = services.notice_issue(
            actor=request.user,
            department=department if department is not None else -1,
            content=request.POST.get("content", ""),
            deadline=_day(request.POST.get("deadline")),
            item=item,
            case=case,
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return render(
            request,
            "supervision/refused.html",
            {"message": exc.message, "back": back},
            status=exc.status_code,
        )
    messages.success(
        request, _("已发出督办通知 %(number)s。") % {"number": notice.number}
    )
    return redirect("supervision:notice", pk=notice.pk)


def _notice_shell(request: HttpRequest) -> bool:
    return selectors.is_supervisor(request.user)


@require_safe
@staff_required
def notices_view(request: HttpRequest) -> HttpResponse:
    """Notices: those a supervisor follows, or those addressed to the reader's department."""
    status = (
        request.GET.get("status")
        if request.GET.get("status") in NoticeStatus.values
        else ""
    )
    template = "supervision/notices.html"
    context = {
        "notices": selectors.notices(request.user, status=status),
        "status": status,
        "statuses": NoticeStatus.choices,
        "supervisor": _notice_shell(request),
    }
    if context["supervisor"]:
        return render(
            request,
            template,
            {**context, "base_template": "onewindow/supervision.html"},
        )
    return render_in_shell(request, template, context)


def _render_notice(
    request: HttpRequest,
    notice: SupervisionNotice,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    actions = {
        t.action
        for t in services.NOTICE_LIFECYCLE.available(
            state=notice.status, actor=request.user, obj=notice
        )
    }
    context = {
        "notice": notice,
        "actions": actions,
        "error": error,
        "supervisor": _notice_shell(request),
        "today": clock.today(),
    }
    if context["supervisor"]:
        return render(
            request,
            "supervision/notice.html",
            {**context, "base_template": "onewindow/supervision.html"},
            status=status,
        )
    return render_in_shell(request, "supervision/notice.html", context, status=status)


@require_safe
@staff_required
@domain_errors
def notice_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_notice(request, selectors.notice(request.user, pk))


NOTICE_ACTIONS = {
    "answer": (services.notice_answer, "answer", gettext_lazy("已答复督办通知。")),
    "close": (services.notice_close, "conclusion", gettext_lazy("督办通知已办结。")),
    "escalate": (services.notice_escalate, "reason", gettext_lazy("督办通知已升级。")),
}


@require_POST
@staff_required
@domain_errors
def notice_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in NOTICE_ACTIONS:
        raise NotFound(_("没有该操作。"))
    notice = selectors.notice(request.user, pk)
    service, field, done = NOTICE_ACTIONS[action]
    try:
        service(
            actor=request.user, notice=notice, **{field: request.POST.get("text", "")}
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _render_notice(
            request,
            selectors.notice(request.user, pk),
            error=exc.message,
            status=exc.status_code,
        )
    messages.success(request, str(done))
    return redirect("supervision:notice", pk=pk)


# --- denial filings ------------------------------------------------------------------------------


@require_safe
@supervisor_required
def denials_view(request: HttpRequest) -> HttpResponse:
    pending = request.GET.get("all") != "1"
    return render(
        request,
        "supervision/denials.html",
        {
            "filings": selectors.denial_filings(request.user, pending=pending),
            "pending": pending,
            "outcomes": DenialOutcome.choices,
        },
    )


@require_POST
@supervisor_required
@domain_errors
def denial_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    filing = selectors.denial_filing(request.user, pk)
    try:
        services.denial_review(
            actor=request.user,
            filing=filing,
            outcome=request.POST.get("outcome", ""),
            opinion=request.POST.get("opinion", ""),
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return render(
            request,
            "supervision/denials.html",
            {
                "filings": selectors.denial_filings(request.user),
                "pending": True,
                "outcomes": DenialOutcome.choices,
                "error": exc.message,
                "error_filing": filing.pk,
            },
            status=exc.status_code,
        )
    messages.success(
        request, _("已审查 %(number)s 的否定报备。") % {"number": filing.case.number}
    )
    return redirect("supervision:denials")


# --- spot checks ---------------------------------------------------------------------------------


def _spot_checks_page(
    request: HttpRequest, *, error: str = "", status: int = 200
) -> HttpResponse:
    today = clock.today()
    form = {
        "department": "",
        "period_from": today.replace(day=1).isoformat(),
        "period_to": today.isoformat(),
        "sample_size": "10",
        "seed": "",
    }
    if request.method == "POST":
        form.update({name: request.POST.get(name, "")[:64] for name in form})
    return render(
        request,
        "supervision/spot_checks.html",
        {
            "checks": selectors.spot_checks(request.user),
            "departments": selectors.supervised_departments(request.user),
            "error": error,
            "form": form,
        },
        status=status,
    )


@require_safe
@supervisor_required
def spot_checks_view(request: HttpRequest) -> HttpResponse:
    return _spot_checks_page(request)


@require_POST
@supervisor_required
def spot_check_draw_view(request: HttpRequest) -> HttpResponse:
    try:
        check = services.spot_check_draw(
            actor=request.user,
            department=_id(request.POST.get("department")) or -1,
            period_from=_day(request.POST.get("period_from")),
            period_to=_day(request.POST.get("period_to")),
            sample_size=_int(request.POST.get("sample_size")),
            seed=request.POST.get("seed", ""),
        )
    except DomainError as exc:
        return _spot_checks_page(request, error=exc.message, status=exc.status_code)
    messages.success(
        request,
        _("已抽取 %(n)s 件办件，随机种子 %(seed)s。")
        % {"n": check.sample_size, "seed": check.seed},
    )
    return redirect("supervision:spot_check", pk=check.pk)


def _spot_check_page(
    request: HttpRequest,
    check_id: int,
    *,
    error: str = "",
    error_sample: int | None = None,
    status: int = 200,
) -> HttpResponse:
    check = selectors.spot_check(request.user, check_id)
    samples = list(check.samples.select_related("case", "item"))
    for sample in samples:
        sample.rows = [
            (entry["label"], sample.answers.get(entry["key"]))
            for entry in check.checklist
        ]
    return render(
        request,
        "supervision/spot_check.html",
        {
            "check": check,
            "samples": samples,
            "error": error,
            "error_sample": error_sample,
        },
        status=status,
    )


@require_safe
@supervisor_required
@domain_errors
def spot_check_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _spot_check_page(request, pk)


@require_POST
@supervisor_required
@domain_errors
def spot_check_record_view(request: HttpRequest, pk: int) -> HttpResponse:
    sample = selectors.spot_check_sample(request.user, pk)
    answers = {
        entry["key"]: request.POST.get(entry["key"]) == "yes"
        for entry in sample.check_run.checklist
        if request.POST.get(entry["key"]) in ("yes", "no")
    }
    try:
        services.spot_check_record(
            actor=request.user,
            sample=sample,
            answers=answers,
            findings=request.POST.get("findings", ""),
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        return _spot_check_page(
            request,
            sample.check_run_id,
            error=exc.message,
            error_sample=sample.pk,
            status=exc.status_code,
        )
    messages.success(
        request, _("已记录 %(number)s 的检查结果。") % {"number": sample.case.number}
    )
    return redirect("supervision:spot_check", pk=sample.check_run_id)


# --- staff performance ---------------------------------------------------------------------------


@require_safe
@supervisor_required
def performance_view(request: HttpRequest) -> HttpResponse:
    """Staff performance figures for the annual assessment (优秀 capped at 20 % of staff)."""
    year = _int(request.GET.get("year")) or clock.today().year
    error, status, figures = "", 200, []
    try:
        figures = selectors.staff_performance(request.user, year=year)
    except InvalidInput as exc:
        error, status = exc.message, exc.status_code
    return render(
        request,
        "supervision/performance.html",
        {"figures": figures, "year": year, "error": error},
        status=status,
    )


# --- configuration: rules and the items' warning thresholds -------------------------------------


def _refused(form: forms.Form, exc: DomainError) -> int:
    """Show a service's refusal on the form; its status for the response."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return exc.status_code


@require_safe
@supervisor_required
def rules_view(request: HttpRequest) -> HttpResponse:
    """The supervision rules (W: warnings, A: anomalies), with their switch and parameters;
    platform administrators change them."""
    rules = [
        (
            rule,
            [(parameter_label(name), value) for name, value in rule.parameters.items()],
        )
        for rule in selectors.rule_list()
    ]
    return render(
        request,
        "supervision/rules.html",
        {"rules": rules, "may_configure": is_platform_admin(request.user)},
    )


def _rule(code: str) -> SupervisionRule:
    found = services.rules().get(code)
    if found is None:
        raise NotFound(_("没有该监察规则。"))
    return found


@require_http_methods(GET_OR_POST)
@platform_admin_required
@domain_errors
def rule_edit_view(request: HttpRequest, code: str) -> HttpResponse:
    rule = _rule(code)
    form = RuleForm(request.POST if request.method == "POST" else None, rule=rule)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.rule_configure(
                    actor=request.user,
                    rule=rule,
                    enabled=form.cleaned_data["enabled"],
                    parameters=form.parameters(),
                )
            except DomainError as exc:
                status = _refused(form, exc)
            else:
                messages.success(
                    request, _("已保存监察规则 %(code)s。") % {"code": rule.code}
                )
                return redirect("supervision:rules")
    return render(
        request,
        "supervision/rule_edit.html",
        {"rule": rule, "form": form},
        status=status,
    )


def _render_configuration(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """In the supervision shell for supervisors; a department's administrator stays in the
    workbench."""
    if selectors.is_supervisor(request.user):
        return render(
            request,
            template,
            {
                **context,
                "supervisor": True,
                "base_template": "onewindow/supervision.html",
            },
            status=status,
        )
    return render_in_shell(request, template, context, status=status)


@require_safe
@threshold_reader_required
def thresholds_view(request: HttpRequest) -> HttpResponse:
    """The items' yellow thresholds (the default, or the item's own), searched by name or code."""
    query = request.GET.get("q", "").strip()[:100]
    items = selectors.threshold_readable_items(request.user)
    if query:
        items = items.filter(Q(name__icontains=query) | Q(impl_code__icontains=query))
    items = list(
        items.select_related("department", "supervision_setting").order_by(
            "department__name", "name", "pk"
        )[: THRESHOLD_LIST_LIMIT + 1]
    )
    settable = set(
        selectors.threshold_settable_items(request.user)
        .filter(pk__in=[item.pk for item in items])
        .values_list("pk", flat=True)
    )
    rows = []
    for item in items[:THRESHOLD_LIST_LIMIT]:
        setting = getattr(item, "supervision_setting", None)
        threshold = (
            Threshold(setting.near_days, setting.near_percent)
            if setting
            else DEFAULT_THRESHOLD
        )
        rows.append(
            {
                "item": item,
                "setting": setting,
                "yellow_days": threshold.days(item.promised_days),
                "settable": item.pk in settable,
            }
        )
    return _render_configuration(
        request,
        "supervision/thresholds.html",
        {
            "rows": rows,
            "more": len(items) > THRESHOLD_LIST_LIMIT,
            "query": query,
            "default_days": DEFAULT_NEAR_DAYS,
            "default_percent": DEFAULT_NEAR_PERCENT,
            "escalation": services.rules()[RuleCode.ESCALATION],
            "may_configure_rules": is_platform_admin(request.user),
        },
    )


@require_http_methods(GET_OR_POST)
@threshold_reader_required
@domain_errors
def threshold_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    item = (
        selectors.threshold_settable_items(request.user)
        .select_related("department", "supervision_setting")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise NotFound(_("没有找到该事项，或您不能设置它的预警阈值。"))
    setting = getattr(item, "supervision_setting", None)
    initial = (
        {
            "near_days": setting.near_days,
            "near_percent": setting.near_percent,
            "separate_accept_and_decide": setting.separate_accept_and_decide,
        }
        if setting
        else {}
    )
    form = ItemSettingForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.item_setting_save(
                    actor=request.user, item=item, **form.cleaned_data
                )
            except DomainError as exc:
                status = _refused(form, exc)
            else:
                messages.success(
                    request, _("已保存 %(item)s 的预警阈值。") % {"item": item.name}
                )
                query = urlencode({"q": item.impl_code})
                return redirect(f"{reverse('supervision:thresholds')}?{query}")
    return _render_configuration(
        request,
        "supervision/threshold_edit.html",
        {"item": item, "form": form},
        status=status,
    )
