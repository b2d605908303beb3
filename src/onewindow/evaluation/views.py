"""Evaluation on the web: the applicant's rating page for a finished case (the invitation's SMS
link), the visit rating page the ticket's QR code and the hall tablet open, my ratings, the
department's rectification items and the supervisor's appeals in the workbench, the figures,
and the public satisfaction page.

Thin views: reads through `selectors`, every change through `services`; a refusal is shown with
the service's message and its 4xx status and changes nothing; a successful POST redirects.
"""

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from onewindow.accounts.permissions import account_required, staff_required
from onewindow.core.errors import DomainError, InvalidInput
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell
from onewindow.evaluation import selectors, services
from onewindow.evaluation.choices import (
    OFFLINE_INDICATORS,
    ONLINE_INDICATORS,
    PENDING_RECTIFICATION,
    EvaluationChannel,
    FigureGrouping,
    Level,
)
from onewindow.evaluation.forms import (
    AppealDecisionForm,
    AppealForm,
    CallBackForm,
    FigureForm,
    FixForm,
    RatingForm,
)
from onewindow.hall.choices import TicketStatus

domain_errors = refusals_as(problem_page())
RECTIFICATION_ACTIONS = {
    "call-back": (
        CallBackForm,
        services.rectification_call_back,
        gettext_lazy("已登记回访。"),
    ),
    "fix": (FixForm, services.rectification_fix, gettext_lazy("整改已办结。")),
    "appeal": (
        AppealForm,
        services.rectification_appeal,
        gettext_lazy("已提出申诉，等待监察员复核。"),
    ),
    "decide-appeal": (
        AppealDecisionForm,
        services.rectification_decide_appeal,
        gettext_lazy("已作出复核结论。"),
    ),
}
FORM_HEADINGS = {
    "call-back": gettext_lazy("登记回访"),
    "fix": gettext_lazy("办结整改"),
    "appeal": gettext_lazy("提出申诉"),
    "decide-appeal": gettext_lazy("申诉复核"),
}


def _add_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- raters ---------------------------------------------------------------------------------------------


def _case_channel(request: HttpRequest) -> str:
    """The invitation's SMS link says so; everything else on the web is the portal (PC端)."""
    if request.GET.get("channel") == EvaluationChannel.SMS:
        return EvaluationChannel.SMS
    return EvaluationChannel.PC


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
@domain_errors
def rate_case(request: HttpRequest, pk: int) -> HttpResponse:
    """一事一评: rate a finished case, or change the rating within the change window."""
    case = selectors.rateable_case(request.user, pk)
    existing = selectors.case_evaluation(case)
    changeable = (
        existing is not None
        and existing.rater_id == request.user.pk
        and selectors.is_changeable(existing)
    )
    initial = (
        {"level": existing.level, "comment": existing.comment} if existing else None
    )
    if existing:
        initial.update(
            {f"indicator_{code}": level for code, level in existing.indicators.items()}
        )
    form = RatingForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        indicators=ONLINE_INDICATORS,
    )
    status = 200
    if request.method == "POST":
        if existing is not None and not changeable:
            raise DomainError(_("该办件已评价，且已超过修改期限。"))
        if form.is_valid():
            data = {
                "level": form.cleaned_data["level"],
                "indicators": form.indicators(),
                "comment": form.cleaned_data["comment"],
            }
            try:
                if existing is None:
                    services.evaluation_rate_case(
                        actor=request.user,
                        case=case,
                        channel=_case_channel(request),
                        **data,
                    )
                else:
                    services.evaluation_change(
                        actor=request.user, evaluation=existing, **data
                    )
            except InvalidInput as exc:
                _add_error(form, exc)
            else:
                messages.success(request, _("感谢您的评价。"))
                return redirect("evaluation:rate_case", pk=case.pk)
        status = 400
    return render_in_shell(
        request,
        "evaluation/rate.html",
        {
            "case": case,
            "evaluation": existing,
            "form": form,
            "rateable": selectors.is_rateable(case),
            "changeable": changeable,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@domain_errors
def rate_visit(request: HttpRequest, token: str) -> HttpResponse:
    """一次一评 with the ticket's code: no sign-in needed (an anonymous rating when not signed in)."""
    ticket = services.ticket_for_token(token)
    form = RatingForm(
        request.POST if request.method == "POST" else None,
        indicators=OFFLINE_INDICATORS,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            actor = request.user if request.user.is_authenticated else None
            try:
                services.evaluation_rate_visit(
                    actor=actor,
                    ticket=ticket,
                    level=form.cleaned_data["level"],
                    indicators=form.indicators(),
                    comment=form.cleaned_data["comment"],
                    token=token,
                    channel=request.GET.get("channel")
                    if request.GET.get("channel") == "tablet"
                    else "qr",
                )
            except InvalidInput as exc:
                _add_error(form, exc)
            else:
                return render_in_shell(
                    request, "evaluation/rated.html", {"ticket": ticket}
                )
        status = 400
    return render_in_shell(
        request,
        "evaluation/rate_visit.html",
        {
            "ticket": ticket,
            "form": form,
            # The ticket's QR code may be scanned while waiting, or again after rating.
            "rated": selectors.visit_evaluation(ticket) is not None,
            "finished": ticket.status == TicketStatus.DONE,
        },
        status=status,
    )


@require_safe
@staff_required
@domain_errors
def tablet(request: HttpRequest, pk: int) -> HttpResponse:
    """The window's tablet: the clerk opens the rating form of the visit just served, for the
    person at the window to fill in (an anonymous rating, channel 政务大厅平板电脑)."""
    ticket = selectors.served_ticket(request.user, pk)
    url = reverse("evaluation:rate_visit", args=[services.visit_token(ticket)])
    return redirect(f"{url}?channel=tablet")


@require_safe
@account_required
def mine(request: HttpRequest) -> HttpResponse:
    return render_in_shell(
        request,
        "evaluation/mine.html",
        {"evaluations": list(selectors.my_evaluations(request.user)[:200])},
    )


def _dates(request: HttpRequest) -> FigureForm:
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("date_from", (today - dt.timedelta(days=30)).isoformat())
    data.setdefault("date_to", today.isoformat())
    data.setdefault("by", FigureGrouping.DEPARTMENT)
    return FigureForm(data)


@require_safe
@domain_errors
def public_figures(request: HttpRequest) -> HttpResponse:
    """公开满意度: per department (or item), no person named."""
    form = _dates(request)
    rows = None
    if form.is_valid():
        by = (
            form.cleaned_data["by"]
            if form.cleaned_data["by"] == FigureGrouping.ITEM
            else FigureGrouping.DEPARTMENT
        )
        rows = selectors.public_figures(
            by=by,
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
    return render_in_shell(
        request,
        "evaluation/public_figures.html",
        {"form": form, "rows": rows, "levels": list(Level)},
        status=200 if form.is_valid() else 400,
    )


# --- departments and supervisors -----------------------------------------------------------------------------


@require_safe
@staff_required
@domain_errors
def rectification_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")[:12]
    overdue = request.GET.get("overdue") == "1"
    items = list(
        selectors.rectifications(request.user, status=status, overdue=overdue)[:500]
    )
    today = timezone.localdate()
    return render_in_shell(
        request,
        "evaluation/rectifications.html",
        {"items": items, "status": status, "overdue": overdue, "today": today},
    )


@require_safe
@staff_required
@domain_errors
def rectification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.rectification_for(request.user, pk))


def _detail(
    request: HttpRequest,
    item: Any,
    *,
    bound: tuple[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The item with a form for each action the actor may take on it now."""
    allowed = {
        t.action
        for t in services.RECTIFICATION_LIFECYCLE.available(
            state=item.status, actor=request.user, obj=item
        )
    }
    offered = {
        "call-back": "call_back" in allowed and item.evaluation.rater_id is not None,
        "fix": "fix" in allowed,
        "appeal": "appeal" in allowed,
        "decide-appeal": bool(allowed & {"uphold", "reject"}),
    }
    forms = []
    for slug, (form_class, _service, _done) in RECTIFICATION_ACTIONS.items():
        if offered[slug]:
            form = bound[1] if bound and bound[0] == slug else form_class()
            forms.append((slug, FORM_HEADINGS[slug], form))
    return render_in_shell(
        request,
        "evaluation/rectification.html",
        {
            "item": item,
            "evaluation": item.evaluation,
            "call_backs": list(item.call_backs.all()),
            "forms": forms,
            "overdue": item.status in PENDING_RECTIFICATION
            and item.fix_due < timezone.localdate(),
        },
        status=status,
    )


@require_POST
@staff_required
@domain_errors
def rectification_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in RECTIFICATION_ACTIONS:
        raise InvalidInput(_("没有这个操作。"))
    form_class, service, done = RECTIFICATION_ACTIONS[action]
    item = selectors.rectification_for(request.user, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            service(actor=request.user, rectification=item, **form.cleaned_data)
        except InvalidInput as exc:
            _add_error(form, exc)
        else:
            messages.success(request, done)
            return redirect("evaluation:rectification", pk=pk)
    return _detail(request, item, bound=(action, form), status=400)


@require_safe
@staff_required
@domain_errors
def figures(request: HttpRequest) -> HttpResponse:
    form = _dates(request)
    rows = None
    if form.is_valid():
        rows = selectors.figures(
            request.user,
            by=form.cleaned_data["by"],
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
        )
    return render_in_shell(
        request,
        "evaluation/figures.html",
        {"form": form, "rows": rows, "levels": list(Level)},
        status=200 if form.is_valid() else 400,
    )
