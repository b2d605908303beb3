"""Consultations and complaints on the web: the portal's form (open to anyone, with limits
against floods and scripts), my requests with rating and reopening, the progress lookup by
number and query code, the exposure column; in the workbench the 12345 operator's screen
(take a call, dispatch), the department's queue and request page, and the pages keeping the
categories (platform administrators) and the routing rules (12345 centres).

Thin views: reads through `selectors`, every change through `services`; a refusal is shown
with the service's message and its 4xx status and changes nothing; a successful POST redirects.
"""

from typing import Any

from django.contrib import messages
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

from onewindow.accounts.permissions import account_required, staff_required
from onewindow.complaints import antibot, selectors, services
from onewindow.complaints.choices import Status
from onewindow.complaints.forms import (
    AnswerForm,
    DispatchForm,
    ExposureForm,
    ExtendForm,
    HotlineForm,
    PortalForm,
    ProgressForm,
    RateForm,
    ReopenForm,
    RuleForm,
    TopicForm,
    TransferForm,
)
from onewindow.core.errors import DomainError, InvalidInput, PermissionDenied
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell

domain_errors = refusals_as(problem_page())

# action slug → (form, service, heading, message when done)
ACTIONS = {
    "dispatch": (
        DispatchForm,
        services.complaint_dispatch,
        gettext_lazy("分派"),
        gettext_lazy("已分派。"),
    ),
    "transfer": (
        TransferForm,
        services.complaint_transfer,
        gettext_lazy("转办"),
        gettext_lazy("已转办。"),
    ),
    "extend": (
        ExtendForm,
        services.complaint_extend,
        gettext_lazy("延期"),
        gettext_lazy("已延期。"),
    ),
    "answer": (
        AnswerForm,
        services.complaint_answer,
        gettext_lazy("答复"),
        gettext_lazy("已答复。"),
    ),
    "rate": (
        RateForm,
        services.complaint_rate,
        gettext_lazy("评价"),
        gettext_lazy("感谢您的评价。"),
    ),
    "reopen": (
        ReopenForm,
        services.complaint_reopen,
        gettext_lazy("不满意，要求重新办理"),
        gettext_lazy("已退回承办单位重新办理。"),
    ),
}
CITIZEN_ACTIONS = ("rate", "reopen")


def _add_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _submit(request: HttpRequest, form: Any, *, uploads: list | tuple = ()) -> Any:
    data = form.cleaned_data
    return services.complaint_submit(
        actor=request.user if request.user.is_authenticated else None,
        kind=data["kind"],
        title=data["title"],
        content=data["content"],
        source=data.get("source") or "portal",
        topic=data.get("topic"),
        region=data.get("region"),
        address=data["address"],
        respondent=data["respondent"],
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        contact_email=data["contact_email"],
        uploads=uploads,
    )


# --- portal -----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@domain_errors
def new(request: HttpRequest) -> HttpResponse:
    """我要咨询投诉: anyone may write; not signed in, a phone number or e-mail is needed and no
    files can be attached."""
    if request.method != "POST":
        form = PortalForm(initial={"form_token": antibot.form_token()})
        return render_in_shell(request, "complaints/new.html", {"form": form})
    form = PortalForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            antibot.check(
                form.cleaned_data["form_token"],
                form.cleaned_data.get(antibot.HONEYPOT, ""),
            )
            uploads = request.FILES.getlist("media")
            complaint = _submit(request, form, uploads=uploads)
        except InvalidInput as exc:
            _add_error(form, exc)
        else:
            return render_in_shell(
                request,
                "complaints/received.html",
                {"complaint": complaint},
                status=201,
            )
    form.data = form.data.copy()
    form.data["form_token"] = antibot.form_token()
    return render_in_shell(request, "complaints/new.html", {"form": form}, status=400)


@require_safe
@account_required
def mine(request: HttpRequest) -> HttpResponse:
    return render_in_shell(
        request,
        "complaints/mine.html",
        {"complaints": list(selectors.my_complaints(request.user)[:200])},
    )


def _forms_for(
    request: HttpRequest,
    complaint: Any,
    slugs: tuple[str, ...],
    bound: tuple[str, Any] | None,
) -> list:
    allowed = {
        t.action
        for t in services.COMPLAINT_LIFECYCLE.available(
            state=complaint.status, actor=request.user, obj=complaint
        )
    }
    forms = []
    for slug in slugs:
        if slug in allowed:
            form_class, _service, heading, _done = ACTIONS[slug]
            forms.append(
                (
                    slug,
                    heading,
                    bound[1] if bound and bound[0] == slug else form_class(),
                )
            )
    return forms


@require_safe
@account_required
@domain_errors
def my_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _my_page(request, selectors.my_complaint(request.user, pk))


def _my_page(
    request: HttpRequest,
    complaint: Any,
    bound: tuple[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render_in_shell(
        request,
        "complaints/detail.html",
        {
            "complaint": complaint,
            "history": list(selectors.public_history(complaint)),
            "staff": False,
            "forms": _forms_for(request, complaint, CITIZEN_ACTIONS, bound),
            "overdue_days": services.overdue_days(complaint, _today())
            if not complaint.answered_at
            else None,
        },
        status=status,
    )


def _today() -> Any:
    return timezone.localdate()


def _run(request: HttpRequest, complaint: Any, action: str) -> tuple[bool, Any]:
    if action not in ACTIONS:
        raise InvalidInput(_("没有这个操作。"))
    form_class, service, _heading, done = ACTIONS[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(actor=request.user, complaint=complaint, **form.cleaned_data)
        except InvalidInput as exc:
            _add_error(form, exc)
        else:
            messages.success(request, done)
            return True, form
    return False, form


@require_POST
@account_required
@domain_errors
def my_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    complaint = selectors.my_complaint(request.user, pk)
    if action not in CITIZEN_ACTIONS:
        raise InvalidInput(_("没有这个操作。"))
    done, form = _run(request, complaint, action)
    if done:
        return redirect("complaints:my_detail", pk=pk)
    return _my_page(request, complaint, (action, form), 400)


@require_safe
def progress(request: HttpRequest) -> HttpResponse:
    """诉求进度查询: the status and history by number and query code; no name, phone or content.
    An address with too many wrong attempts is refused for an hour."""
    asked = "number" in request.GET or "code" in request.GET
    form = ProgressForm(request.GET if asked else None)
    found, history, problem, status = None, [], "", 200
    if asked and form.is_valid():
        try:
            found, history = selectors.public_progress(
                form.cleaned_data["number"], form.cleaned_data["code"]
            )
        except DomainError as exc:
            problem, status = exc.message, exc.status_code
    elif asked:
        status = 400
    return render_in_shell(
        request,
        "complaints/progress.html",
        {"form": form, "found": found, "history": history, "problem": problem},
        status=status,
    )


@require_safe
def exposure(request: HttpRequest) -> HttpResponse:
    """曝光纠错: resolved problems, anonymised, with their results."""
    return render_in_shell(
        request,
        "complaints/exposure.html",
        {"entries": list(selectors.exposures()[:100])},
    )


# --- workbench ---------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
@domain_errors
def hotline(request: HttpRequest) -> HttpResponse:
    """The 12345 operator's screen: record a call or a mailbox letter; the requests waiting for
    dispatch below."""
    if not services.is_operator(request.user):
        raise PermissionDenied(_("只有12345热线话务员可以使用热线登记。"))
    form = HotlineForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                complaint = _submit(request, form)
            except InvalidInput as exc:
                _add_error(form, exc)
            else:
                messages.success(
                    request,
                    _("已登记 %(number)s，查询码 %(code)s。")
                    % {"number": complaint.number, "code": complaint.query_code},
                )
                return redirect("complaints:work_detail", pk=complaint.pk)
        status = 400
    waiting = list(selectors.queue(request.user, status=Status.RECEIVED)[:100])
    return render_in_shell(
        request,
        "complaints/hotline.html",
        {"form": form, "waiting": waiting},
        status=status,
    )


@require_safe
@staff_required
@domain_errors
def work(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")[:10]
    overdue = request.GET.get("overdue") == "1"
    items = list(selectors.queue(request.user, status=status, overdue=overdue)[:500])
    today = _today()
    for complaint in items:
        complaint.late_days = (
            services.overdue_days(complaint, today)
            if not complaint.answered_at
            else (complaint.overdue_days)
        )
    return render_in_shell(
        request,
        "complaints/work.html",
        {"items": items, "status": status, "overdue": overdue},
    )


@require_safe
@staff_required
@domain_errors
def work_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _work_page(request, selectors.complaint_for(request.user, pk))


def _work_page(
    request: HttpRequest,
    complaint: Any,
    bound: tuple[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    exposure_form = None
    if (
        complaint.status == Status.CLOSED
        and services.is_operator(request.user, complaint.region)
        and not hasattr(complaint, "exposure")
    ):
        exposure_form = bound[1] if bound and bound[0] == "exposure" else ExposureForm()
    return render_in_shell(
        request,
        "complaints/detail.html",
        {
            "complaint": complaint,
            "history": list(selectors.public_history(complaint)),
            "staff": True,
            "forms": _forms_for(request, complaint, tuple(ACTIONS), bound),
            "exposure_form": exposure_form,
            "overdue_days": services.overdue_days(complaint, _today())
            if not complaint.answered_at
            else None,
        },
        status=status,
    )


@require_POST
@staff_required
@domain_errors
def work_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    complaint = selectors.complaint_for(request.user, pk)
    if action == "exposure":
        form = ExposureForm(request.POST)
        if form.is_valid():
            services.exposure_publish(
                actor=request.user, complaint=complaint, **form.cleaned_data
            )
            messages.success(request, _("已在曝光纠错栏目公开。"))
            return redirect("complaints:work_detail", pk=pk)
        done = False
    else:
        done, form = _run(request, complaint, action)
    if done:
        return redirect("complaints:work_detail", pk=pk)
    return _work_page(request, complaint, (action, form), 400)


# --- reference data: categories (platform administrators) and routing rules (12345 centres) --------


def _may_keep_topics(request: HttpRequest) -> None:
    if not services.may_keep_topics(request.user):
        raise PermissionDenied(_("只有平台管理员可以维护诉求类别。"))


def _may_keep_rules(request: HttpRequest) -> None:
    if not services.may_keep_rules(request.user):
        raise PermissionDenied(_("只有12345热线中心或平台管理员可以维护分派规则。"))


@require_safe
@staff_required
@domain_errors
def topics(request: HttpRequest) -> HttpResponse:
    """诉求类别: what citizens and Open311 clients choose from, with the default department and
    the promised days of each."""
    _may_keep_topics(request)
    return render_in_shell(
        request,
        "complaints/topics.html",
        {"topics": list(selectors.kept_topics(request.user))},
    )


def _topic_page(request: HttpRequest, topic: Any) -> HttpResponse:
    form = TopicForm(request.POST if request.method == "POST" else None, topic=topic)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = services.topic_save(actor=request.user, **form.cleaned_data)
            except InvalidInput as exc:
                _add_error(form, exc)
            else:
                messages.success(
                    request, _("已保存诉求类别“%(name)s”。") % {"name": saved.name}
                )
                return redirect("complaints:topics")
        status = 400
    return render_in_shell(
        request,
        "complaints/topic_form.html",
        {"form": form, "topic": topic},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
@domain_errors
def topic_new(request: HttpRequest) -> HttpResponse:
    _may_keep_topics(request)
    return _topic_page(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
@domain_errors
def topic_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _may_keep_topics(request)
    return _topic_page(request, selectors.kept_topic(request.user, pk))


@require_POST
@staff_required
@domain_errors
def topic_active(request: HttpRequest, pk: int) -> HttpResponse:
    """停用 or 启用 a category from the list."""
    _may_keep_topics(request)
    topic = services.topic_set_active(
        actor=request.user,
        topic=selectors.kept_topic(request.user, pk),
        is_active=request.POST.get("is_active") == "1",
    )
    done = _("已启用“%(name)s”。") if topic.is_active else _("已停用“%(name)s”。")
    messages.success(request, done % {"name": topic.name})
    return redirect("complaints:topics")


@require_safe
@staff_required
@domain_errors
def rules(request: HttpRequest) -> HttpResponse:
    """分派规则: the 12345 centre keeps them; the first active rule that matches takes a request."""
    _may_keep_rules(request)
    return render_in_shell(
        request,
        "complaints/rules.html",
        {"rules": list(selectors.routing_rules(request.user))},
    )


def _rule_page(request: HttpRequest, rule: Any) -> HttpResponse:
    form = RuleForm(request.POST if request.method == "POST" else None, rule=rule)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.routing_rule_save(
                    actor=request.user, rule=rule, **form.cleaned_data
                )
            except InvalidInput as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("已保存分派规则。"))
                return redirect("complaints:rules")
        status = 400
    return render_in_shell(
        request,
        "complaints/rule_form.html",
        {"form": form, "rule": rule},
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
@domain_errors
def rule_new(request: HttpRequest) -> HttpResponse:
    _may_keep_rules(request)
    return _rule_page(request, None)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
@domain_errors
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _may_keep_rules(request)
    return _rule_page(request, selectors.routing_rule(request.user, pk))


@require_POST
@staff_required
@domain_errors
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    """上移/下移: swap the rule with the one tried just before or after it."""
    _may_keep_rules(request)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if step is None:
        raise InvalidInput(_("没有这个操作。"))
    order = [rule.pk for rule in selectors.routing_rules(request.user)]
    position = order.index(selectors.routing_rule(request.user, pk).pk)
    if 0 <= position + step < len(order):
        order[position], order[position + step] = (
            order[position + step],
            order[position],
        )
        services.routing_rules_reorder(actor=request.user, order=order)
        messages.success(request, _("已调整匹配顺序。"))
    return redirect("complaints:rules")


@require_POST
@staff_required
@domain_errors
def rule_active(request: HttpRequest, pk: int) -> HttpResponse:
    """停用 or 启用 a rule from the list."""
    _may_keep_rules(request)
    rule = services.routing_rule_set_active(
        actor=request.user,
        rule=selectors.routing_rule(request.user, pk),
        is_active=request.POST.get("is_active") == "1",
    )
    messages.success(
        request, _("已启用分派规则。") if rule.is_active else _("已停用分派规则。")
    )
    return redirect("complaints:rules")


@require_POST
@staff_required
@domain_errors
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _may_keep_rules(request)
    services.routing_rule_delete(
        actor=request.user, rule=selectors.routing_rule(request.user, pk)
    )
    messages.success(request, _("已删除分派规则。"))
    return redirect("complaints:rules")
