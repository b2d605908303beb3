"""The applicant's side of 一件事联办 (mounted under /cases/joint/): the composite services on
offer, one application for all their items (the combined form and material list, filled in and
handed in once), and its progress across the member departments."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from onewindow.accounts.permissions import account_required
from onewindow.cases import selectors, services
from onewindow.cases.choices import CaseStatus, JointStatus
from onewindow.cases.models import Case, CaseMaterial, JointCase
from onewindow.cases.views import ACCEPT, domain_errors
from onewindow.catalogue import composite as combining
from onewindow.catalogue import selectors as catalogue_selectors
from onewindow.catalogue.formdef import FormErrors, data_from_post, parse_form_definition
from onewindow.core.errors import DomainError
from onewindow.core.refusals import render_in_shell

JOINT_MATERIAL_INPUT = "joint-material-{key}"


@require_safe
def offered(request: HttpRequest) -> HttpResponse:
    """一件事一次办: every composite service on offer."""
    return render_in_shell(request, "cases/portal/joint_offered.html",
                           {"composites": list(catalogue_selectors.published_composites())})


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
@domain_errors
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """One composite: its member items and departments, what to prepare once, and "start"."""
    composite = catalogue_selectors.published_composite(code)
    if request.method == "POST":
        joint = services.joint_start(actor=request.user, composite_service=composite)
        messages.success(request, _("已创建一件事申请草稿，共用的信息只需填写一次。"))
        return redirect("cases:joint", pk=joint.pk)
    items = [member.item for member in composite.members.select_related("item__current_version", "item__department")]
    return render_in_shell(request, "cases/portal/joint_apply.html", {
        "composite": composite, "items": items, "application": combining.combine([combining.Member.current(item) for item in items]),
    })


@dataclass(frozen=True)
class JointMaterial:
    material: combining.CombinedMaterial
    attached: list[CaseMaterial]
    input_name: str


def _materials(joint: JointCase, application: combining.CombinedApplication) -> list[JointMaterial]:
    """Each material of the combined list with the files handed in for it (as its first member holds them)."""
    attached = {(m.case.item_id, m.material_key): m for m in
                CaseMaterial.objects.filter(case__joint=joint).select_related("file", "case")}
    rows = []
    for material in application.materials:
        item_id, member_key = material.members[0]
        files = [m for (owner, key), m in attached.items() if owner == item_id and key == member_key]
        rows.append(JointMaterial(material=material, attached=files,
                                  input_name=JOINT_MATERIAL_INPUT.format(key=material.key)))
    return rows


def _render(request: HttpRequest, joint: JointCase, *, data: dict[str, Any] | None = None,
            errors: dict[str, str] | None = None, problem: str = "", status: int = 200) -> HttpResponse:
    application = services.joint_application(joint)
    members = list(Case.objects.filter(joint=joint).select_related("item", "department").order_by("pk"))
    supplying = joint.status == JointStatus.SUBMITTED and any(c.status == CaseStatus.SUPPLEMENT for c in members)
    return render_in_shell(request, "cases/portal/joint.html", {
        "joint": joint,
        "definition": parse_form_definition({"fields": application.fields}),
        "data": joint.form_data if data is None else data,
        "errors": errors or {},
        "problem": problem,
        "materials": _materials(joint, application),
        "members": members,
        "editable": joint.status == JointStatus.DRAFT,
        "supplying": supplying,
        "meetings": list(joint.meetings.prefetch_related("departments")),
        "idempotency_key": uuid.uuid4().hex,
        "accept": ACCEPT,
    }, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
@domain_errors
def joint(request: HttpRequest, pk: int) -> HttpResponse:
    """The joint application: filled in and handed in once while a draft; then its progress in
    every member department, and the supplements the lead window asked for."""
    user = request.user
    joint_case = selectors.my_joint_case(user, pk)
    if request.method != "POST":
        return _render(request, joint_case)
    application = services.joint_application(joint_case)
    definition = parse_form_definition({"fields": application.fields})
    action = request.POST.get("action", "save")
    editable = joint_case.status == JointStatus.DRAFT
    posted = data_from_post(definition, request.POST) if editable else joint_case.form_data
    try:
        with transaction.atomic():
            for material in application.materials:
                for upload in request.FILES.getlist(JOINT_MATERIAL_INPUT.format(key=material.key)):
                    services.joint_attach(actor=user, joint=joint_case, material_key=material.key,
                                          uploaded_file=upload)
            if editable:
                services.joint_save_form(actor=user, joint=joint_case, data=posted)
            if action == "submit" and editable:
                services.joint_submit(actor=user, joint=joint_case,
                                      idempotency_key=request.POST.get("idempotency_key", ""))
            elif action == "supply":
                services.joint_supply(actor=user, joint=joint_case)
    except FormErrors as exc:
        return _render(request, joint_case, data=posted, errors=exc.errors, problem=exc.message,
                       status=exc.status_code)
    except DomainError as exc:
        return _render(request, selectors.my_joint_case(user, pk), data=posted, problem=exc.message,
                       status=exc.status_code)
    notes = {"submit": _("一件事申请已提交，将由牵头部门统一受理。"), "supply": _("补正材料已提交。")}
    messages.success(request, notes.get(action, _("已保存。")))
    return redirect("cases:joint", pk=pk)
