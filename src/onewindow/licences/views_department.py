"""The issuing department's pages in the staff workbench (电子证照管理): its licences with search
and a status filter, a licence with its versions and access log, issuing a licence of one of
its types, and 暂停 / 恢复 / 吊销 / 注销 with the reason.

Who sees what is the API's: staff of the department read its licences (platform administrators
every licence); the department administrator or chief representative issues and changes their
status, as the services decide. Thin views: reads through `selectors`, every change through
`services`. A refusal shows the page again with the service's message and its 4xx status, and
changes nothing.
"""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from onewindow.accounts.forms import add_domain_error
from onewindow.accounts.permissions import staff_required
from onewindow.core.errors import DomainError, PermissionDenied
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell
from onewindow.licences import selectors, services
from onewindow.licences.forms import IssueForm, SearchForm, StatusForm
from onewindow.licences.models import Licence

PER_PAGE = 50
domain_errors = refusals_as(
    problem_page("licences:department", gettext_lazy("返回电子证照管理"))
)

# The status changes these pages offer; 吊销 and 注销 may name the case that decided them.
STATUS_CHANGES = {
    "suspend": services.licence_suspend,
    "reinstate": services.licence_reinstate,
    "revoke": services.licence_revoke,
    "cancel": services.licence_cancel,
}
WITH_CASE = frozenset({"revoke", "cancel"})


@require_safe
@staff_required
@domain_errors
def list_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    form = SearchForm(request.GET)
    status, licences = 200, Licence.objects.none()
    if form.is_valid():
        licences = selectors.search_department(
            actor, form.cleaned_data["q"], status=form.cleaned_data["status"]
        )
    else:
        status = 400
    page = Paginator(licences, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render_in_shell(
        request,
        "licences/department/list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filtered": any(request.GET.get(name) for name in ("q", "status")),
            "types": selectors.issuable_types(actor),
        },
        status=status,
    )


def _status_form(action: str, data: Any = None) -> StatusForm:
    # One form per action on the page: each gets its own element ids.
    return StatusForm(data, auto_id=f"{action}-%s")


def _render_licence(
    request: HttpRequest,
    licence: Licence,
    *,
    failed: str = "",
    form: StatusForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The licence's page with a form for each status change the actor may make now; the one
    just refused (`failed`) shows what was typed and why, and a service's refusal (`error`) is
    shown on top, as the action may no longer be offered."""
    available = services.LICENCE_LIFECYCLE.available(
        state=licence.status, actor=request.user, obj=licence
    )
    actions = [
        {
            "name": transition.action,
            "label": transition.label,
            "with_case": transition.action in WITH_CASE,
            "form": form
            if transition.action == failed
            else _status_form(transition.action),
        }
        for transition in available
        if transition.action in STATUS_CHANGES
    ]
    return render_in_shell(
        request,
        "licences/department/detail.html",
        {
            "licence": licence,
            "labels": selectors.field_labels(licence.licence_type),
            "versions": licence.versions.order_by("-number"),
            "accesses": selectors.accesses(licence)[:200],
            "actions": actions,
            "error": error,
        },
        status=status,
    )


@require_safe
@staff_required
@domain_errors
def detail_view(request: HttpRequest, number: str) -> HttpResponse:
    return _render_licence(request, selectors.department_licence(request.user, number))


@require_POST
@staff_required
@domain_errors
def status_view(request: HttpRequest, number: str, action: str) -> HttpResponse:
    if action not in STATUS_CHANGES:
        raise Http404
    actor = request.user
    licence = selectors.department_licence(actor, number)
    form = _status_form(action, request.POST)
    if not form.is_valid():
        return _render_licence(request, licence, failed=action, form=form, status=400)
    extra: dict[str, Any] = {}
    if action in WITH_CASE:
        extra["case_number"] = form.cleaned_data["case_number"]
    try:
        changed = STATUS_CHANGES[action](
            actor=actor, licence=licence, reason=form.cleaned_data["reason"], **extra
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _render_licence(
            request,
            licence,
            failed=action,
            form=form,
            error=exc.message,
            status=exc.status_code,
        )
    messages.success(
        request,
        _("证照 %(number)s 现为“%(status)s”，已通知持证人。")
        % {"number": changed.number, "status": changed.get_status_display()},
    )
    return redirect("licences:department_detail", number=changed.number)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
@domain_errors
def issue_view(request: HttpRequest, code: str) -> HttpResponse:
    """签发: a licence of the type `code` for a person (ID number) or an enterprise (USCC)."""
    actor = request.user
    licence_type = selectors.licence_type(actor, code)
    if not services.may_issue(actor, licence_type.department):
        raise PermissionDenied(
            _("只有签发部门的部门管理员或首席代表可以签发该类证照。")
        )
    form = IssueForm(licence_type, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                licence = services.licence_issue(
                    actor=actor,
                    licence_type=licence_type,
                    holder_id=data["holder_id"],
                    holder_name=data["holder_name"],
                    fields=form.licence_fields(),
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                    issued_on=data["issued_on"],
                    case_number=data["case_number"],
                    legacy_number=data["legacy_number"],
                )
            except DomainError as exc:
                add_domain_error(form, exc, field_map=form.field_map())
                status = exc.status_code
            else:
                messages.success(
                    request,
                    _("已签发 %(name)s，编号 %(number)s，已通知持证人。")
                    % {"name": licence_type.name, "number": licence.number},
                )
                return redirect("licences:department_detail", number=licence.number)
        else:
            status = 400
    return render_in_shell(
        request,
        "licences/department/issue.html",
        {"licence_type": licence_type, "form": form},
        status=status,
    )
