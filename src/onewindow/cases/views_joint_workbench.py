"""The lead department's side of 一件事联办 (mounted under /workbench/cases/joint/): joint cases
to accept once, every member case live, one supplement notice for all, joint meetings, and the
results delivered together."""

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import role_required, staff_required
from onewindow.cases import selectors, services
from onewindow.cases.choices import DeliveryMethod, JointStatus
from onewindow.cases.models import Case
from onewindow.core.errors import InvalidInput
from onewindow.core.models import Department
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell

domain_errors = refusals_as(problem_page("cases_workbench:joint_queue", gettext_lazy("返回一件事联办件")))


@require_safe
@role_required(Role.WINDOW_CLERK)
def queue_view(request: HttpRequest) -> HttpResponse:
    return render_in_shell(request, "cases/workbench/joint_queue.html",
                           {"joints": list(selectors.joint_acceptance_queue(request.user)[:200])})


@require_safe
@staff_required
@domain_errors
def joint_view(request: HttpRequest, pk: int) -> HttpResponse:
    joint = selectors.joint_case_for(request.user, pk)
    members = list(Case.objects.filter(joint=joint).select_related("item", "department").order_by("pk"))
    return render_in_shell(request, "cases/workbench/joint.html", {
        "joint": joint,
        "members": members,
        "application": services.joint_application(joint),
        "meetings": list(joint.meetings.prefetch_related("departments")),
        "departments": sorted({case.department for case in members}, key=lambda d: d.pk),
        "delivery_methods": [(value, label) for value, label in DeliveryMethod.choices],
        "can_accept": joint.status == JointStatus.SUBMITTED,
        "can_deliver": joint.status in (JointStatus.COMPLETED, JointStatus.PARTIAL),
        "in_progress": joint.status == JointStatus.IN_PROGRESS,
        "today": dt.date.today().isoformat(),
    })


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(_("请填写会商日期。"), field="held_on") from None


@require_POST
@staff_required
@domain_errors
def action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = request.user
    joint = selectors.joint_case_for(actor, pk)
    post = request.POST
    if action == "accept":
        services.joint_accept(actor=actor, joint=joint)
        messages.success(request, _("已统一受理，各成员事项已分送各部门并联办理。"))
    elif action == "request-supplement":
        missing = [{"material_key": key, "reason": post.get(f"reason-{key}", "")} for key in post.getlist("material")]
        if post.get("other", "").strip():
            missing.append({"material_key": "", "reason": post["other"]})
        services.joint_request_supplement(actor=actor, joint=joint, missing=missing, note=post.get("note", ""))
        messages.success(request, _("已一次性告知申请人需要补正的全部内容。"))
    elif action == "meeting":
        departments = list(Department.objects.filter(pk__in=[v for v in post.getlist("department") if v.isdigit()]))
        services.joint_record_meeting(actor=actor, joint=joint, held_on=_date(post.get("held_on", "")),
                                      departments=departments, conclusion=post.get("conclusion", ""))
        messages.success(request, _("联席会商已记录。"))
    elif action == "deliver":
        services.joint_deliver(actor=actor, joint=joint, method=post.get("method", ""), address=post.get("address", ""),
                               recipient=post.get("recipient", ""), carrier=post.get("carrier", ""),
                               tracking_number=post.get("tracking_number", ""))
        messages.success(request, _("各事项办理结果已统一送达。"))
    else:
        raise InvalidInput(_("未知的操作。"), field="action")
    return redirect("cases_workbench:joint", pk=pk)
