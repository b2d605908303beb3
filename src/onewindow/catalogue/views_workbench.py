"""The catalogue in the staff workbench: implementation items, the guide editor, legal review and
publication batches. Thin views: reads through `selectors`, every change through `services`; a
refusal is shown with the service's message and its 4xx status, and changes nothing.

The guide editor also takes the guide's files (blank forms, samples, the result sample): a
save stores each chosen file (`core.files.store_upload`) and then saves the draft, in one
transaction, so a refused upload or a refused save keeps neither the files nor the change."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import has_role, is_platform_admin, role_required
from onewindow.accounts.selectors import managed_departments
from onewindow.catalogue import files as guide_files
from onewindow.catalogue import selectors, services
from onewindow.catalogue.choices import OPEN_VERSION_STATUSES, VersionStatus
from onewindow.catalogue.formdef import parse_form_definition
from onewindow.catalogue.forms import (
    BatchForm,
    ChangeNoteForm,
    ItemCreateForm,
    OpinionForm,
    ReasonForm,
    ScheduleForm,
    VersionEditor,
    add_domain_error,
    theme_choices,
)
from onewindow.catalogue.models import ItemVersion, PublicationBatch
from onewindow.catalogue.schema import (
    LABELS,
    ItemContent,
    TimeLimit,
    is_compressed,
    parse_content,
)
from onewindow.core import files
from onewindow.core.errors import DomainError, InvalidInput, NotFound
from onewindow.core.refusals import problem_page, refusals_as

# Who works with the catalogue: editors (department and platform administrators) and reviewers.
CATALOGUE_ROLES = (Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN, Role.LEGAL_REVIEWER)
EDITOR_ROLES = (Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN)
ITEMS_PER_PAGE = 30


domain_errors = refusals_as(problem_page("catalogue_workbench:items", gettext_lazy("返回事项管理")))


def _preview(definition: Any) -> dict[str, Any]:
    """What the application-form preview shows: the definition when it is valid, else why not."""
    preview = {"definition": None, "data": {}, "errors": {}, "error": ""}
    if definition is None:
        preview["error"] = _("申请表定义不是有效的 JSON 对象。")
        return preview
    try:
        parse_form_definition(definition)
    except InvalidInput as exc:
        preview["error"] = exc.message
        return preview
    preview["definition"] = definition
    return preview


def _parsed(content: dict[str, Any]) -> ItemContent | None:
    try:
        return parse_content(content)
    except InvalidInput:
        return None


def _not_compressed(content: dict[str, Any]) -> bool:
    """Whether the promised limit is cut by less than half of the legal limit (the editor's flag)."""
    limits = {}
    for name in ("legal_limit", "promised_limit"):
        amount = (content.get(name) or {}).get("amount")
        limits[name] = TimeLimit.model_construct(amount=amount if isinstance(amount, int) else None)
    return not is_compressed(ItemContent.model_construct(**limits))


def _open_version(actor: Any, item: Any) -> ItemVersion | None:
    return selectors.staff_versions(actor).filter(item=item, status__in=OPEN_VERSION_STATUSES).first()


# --- items -------------------------------------------------------------------------------------


@role_required(*CATALOGUE_ROLES)
def items_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    q = request.GET.get("q", "").strip()[:100]
    page = Paginator(selectors.workbench_items(actor, q=q), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    reviewer = has_role(actor, Role.LEGAL_REVIEWER)
    platform = is_platform_admin(actor)
    return render(request, "catalogue/workbench/items.html", {
        "page": page,
        "q": q,
        "may_create": platform or managed_departments(actor).exists(),
        "is_editor": platform or has_role(actor, Role.DEPARTMENT_ADMIN),
        "review_queue": list(selectors.review_queue(actor)[:100]) if reviewer else None,
        "batches": list(selectors.batches(actor)[:10]) if platform else None,
    })


@role_required(*EDITOR_ROLES)
@domain_errors
def item_create_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    query = (request.POST.get("q") or request.GET.get("q") or "").strip()[:100]
    form = ItemCreateForm(actor, request.POST or None, query=query)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                version = services.item_create(
                    actor=actor, basic_item=data["basic_item"], department=data["department"],
                    impl_code=data["impl_code"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, _("已新增事项，请完善办事指南后提交法制审核。"))
                return redirect("catalogue_workbench:version_edit", pk=version.pk)
        else:
            status = 400
    return render(request, "catalogue/workbench/item_create.html", {"form": form, "q": query}, status=status)


@role_required(*EDITOR_ROLES)
@domain_errors
def item_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.user
    item = selectors.editable_item(actor, pk)
    versions = list(selectors.staff_versions(actor).filter(item=item).order_by("-number"))
    return render(request, "catalogue/workbench/item.html", {
        "item": item,
        "versions": versions,
        "open_version": next((v for v in versions if v.is_open), None),
        "draft_form": ChangeNoteForm(),
    })


@require_POST
@role_required(*EDITOR_ROLES)
@domain_errors
def item_new_draft_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.user
    item = selectors.editable_item(actor, pk)
    form = ChangeNoteForm(request.POST)
    note = form.cleaned_data["change_note"] if form.is_valid() else ""
    version = services.version_new_draft(actor=actor, item=item, change_note=note)
    messages.success(request, _("已从现行版本建立新的草稿（第 %(number)s 版）。") % {"number": version.number})
    return redirect("catalogue_workbench:version_edit", pk=version.pk)


# --- the guide editor ------------------------------------------------------------------------


def _render_editor(
    request: HttpRequest, version: ItemVersion, editor: VersionEditor, *, status: int = 200
) -> HttpResponse:
    content = editor.posted_content or version.content
    editor.show_files(selectors.guide_files(request.user, editor.file_tokens()))
    parsed = _parsed(content) or _parsed(version.content)
    differing = services.standard_differences(parsed, version.item.basic_item) if parsed else []
    return render(request, "catalogue/workbench/version_edit.html", {
        "version": version,
        "item": version.item,
        "editor": editor,
        "not_compressed": _not_compressed(content),
        "differences": editor.differences(differing),
        "preview": _preview(editor.definition()),
        # The digest the editing started from travels with every round trip (add row, preview).
        "base_sha256": request.POST.get("base_sha256") or version.content_sha256,
        # Chosen files are not kept when the editor is shown again without saving.
        "files_dropped": bool(request.FILES),
    }, status=status)


class _UploadRefused(Exception):
    """A chosen file failed the upload checks; the editor shows why beside its input."""


def _store_uploads(actor: Any, editor: VersionEditor) -> None:
    """Store every chosen file and put its token into the editor's content; raises _UploadRefused
    (after checking them all) when any is refused."""
    refused = False
    for upload in editor.uploads():
        try:
            stored = files.store_upload(
                actor=actor, uploaded_file=upload.file, purpose=guide_files.PURPOSE, allowed_kinds=guide_files.KINDS
            )
        except InvalidInput as exc:
            editor.refuse_upload(upload, exc.message)
            refused = True
        else:
            editor.attach(upload, stored.token)
    if refused:
        raise _UploadRefused


@role_required(*EDITOR_ROLES)
@domain_errors
def version_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft. Any other version is refused (409) before a form is shown or read."""
    actor = request.user
    version = selectors.staff_version(actor, pk)
    services.VERSION_LIFECYCLE.check("edit", state=version.status, actor=actor, obj=version)
    themes = list(selectors.themes())
    if request.method != "POST":
        editor = VersionEditor(content=version.content, change_note=version.change_note,
                               theme_choices=theme_choices(themes, version.content))
        return _render_editor(request, version, editor)
    editor = VersionEditor(request.POST, request.FILES, theme_choices=theme_choices(themes, version.content),
                           known_files=guide_files.content_file_tokens(version.content))
    valid = editor.is_valid()
    if valid:
        content = editor.content()
    if editor.adding or (valid and request.POST.get("action") == "preview"):
        # "Add a row" and "preview" show the editor again without saving anything.
        return _render_editor(request, version, editor)
    if not valid:
        return _render_editor(request, version, editor, status=400)
    try:
        # The files first, then the draft naming them: one transaction, so a refusal of either
        # keeps nothing (stored bytes left without their row are removed by the orphan sweep).
        with transaction.atomic():
            _store_uploads(actor, editor)
            services.version_update(actor=actor, version=version, content=content, change_note=editor.change_note,
                                    expected_sha256=request.POST.get("base_sha256") or None)
    except _UploadRefused:
        return _render_editor(request, version, editor, status=400)
    except DomainError as exc:
        editor.add_service_error(exc)
        return _render_editor(request, version, editor, status=exc.status_code)
    messages.success(request, _("已保存。"))
    return redirect("catalogue_workbench:version_edit", pk=version.pk)


# --- a version and its actions -----------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRow:
    label: str
    kind: str
    kind_label: str
    old: str
    new: str


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=1)


# Actions with a button on the version page, and the form each one posts.
ACTION_FORMS: dict[str, type[Form] | None] = {
    "submit": None,
    "discard": None,
    "return": OpinionForm,
    "approve": OpinionForm,
    "schedule": ScheduleForm,
    "unschedule": None,
    "publish_urgent": ReasonForm,
}


def _render_detail(
    request: HttpRequest, version: ItemVersion, *, failed: str = "", form: Form | None = None, error: str = "",
    status: int = 200,
) -> HttpResponse:
    actor = request.user
    available = services.VERSION_LIFECYCLE.available(state=version.status, actor=actor, obj=version)
    actions = {}
    for transition in available:
        if transition.action not in ACTION_FORMS:
            continue
        form_class = ACTION_FORMS[transition.action]
        action_form = form if transition.action == failed else None
        if action_form is None and form_class is not None:
            action_form = form_class(prefix=transition.action)
        actions[transition.action] = {
            "label": transition.label,
            "url": reverse(f"catalogue_workbench:version_{transition.action}", args=[version.pk]),
            "form": action_form,
            "error": error if transition.action == failed else "",
        }
    item = version.item
    open_version = _open_version(actor, item)
    may_open_item = services.may_edit(actor, item)
    may_new_draft = version.status == VersionStatus.PUBLISHED and open_version is None and may_open_item
    found = selectors.version_changes(version)
    # Against nothing (an item never published) every element is "added": no table for that.
    first = bool(found) and all(change.kind == "added" and len(change.path) == 1 for change in found)
    changes = [
        ChangeRow(change.label, change.kind, change.kind_label, _shown(change.old), _shown(change.new))
        for change in found
    ]
    return render(request, "catalogue/workbench/version_detail.html", {
        "version": version,
        "item": item,
        "content": _parsed(version.content),
        "raw_content": json.dumps(version.content, ensure_ascii=False, indent=2),
        "difference_rows": [
            (LABELS.get(name, name), reason) for name, reason in version.content.get("differences", {}).items()
        ],
        "changes": changes,
        "first_version": first,
        "actions": actions,
        "may_edit": "edit" in {t.action for t in available},
        "may_new_draft": may_new_draft,
        "may_open_item": may_open_item,
        "open_version": open_version if open_version is not None and open_version.pk != version.pk else None,
        "draft_form": ChangeNoteForm(),
        # A refusal of an action that has no button now (another person acted first, or the
        # actor may not take it) is shown above the actions.
        "error": error if failed and failed not in actions else "",
        "no_open_batch": "schedule" in actions and not selectors.open_batches().exists(),
        "preview": _preview(version.content.get("form")),
    }, status=status)


@role_required(*CATALOGUE_ROLES)
@domain_errors
def version_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, selectors.staff_version(request.user, pk))


def _act(
    request: HttpRequest, pk: int, action: str, perform: Callable[[Any, ItemVersion, dict[str, Any]], Any],
    success: str, *, then: str = "catalogue_workbench:version_detail",
) -> HttpResponse:
    """Run one lifecycle action from the version page; on refusal show the page again with the message."""
    actor = request.user
    version = selectors.staff_version(actor, pk)
    form_class = ACTION_FORMS[action]
    # Each action's form has its own prefix: two opinion boxes on one page need distinct ids.
    form = form_class(request.POST, prefix=action) if form_class else None
    if form is not None and not form.is_valid():
        problems = " ".join(str(message) for messages_ in form.errors.values() for message in messages_)
        return _render_detail(request, version, failed=action, form=form, error=problems, status=400)
    try:
        perform(actor, version, form.cleaned_data if form is not None else {})
    except DomainError as exc:
        if form is not None:
            add_domain_error(form, exc)
        return _render_detail(request, version, failed=action, form=form, error=exc.message, status=exc.status_code)
    messages.success(request, success)
    if then == "catalogue_workbench:items":
        return redirect(then)
    return redirect(then, pk=version.pk)


@require_POST
@role_required(*CATALOGUE_ROLES)
@domain_errors
def version_submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "submit", lambda actor, version, data: services.version_submit(
        actor=actor, version=version), _("已提交法制审核。"))


@require_POST
@role_required(*CATALOGUE_ROLES)
@domain_errors
def version_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "discard", lambda actor, version, data: services.version_discard(
        actor=actor, version=version), _("已废弃该草稿。"), then="catalogue_workbench:items")


@require_POST
@role_required(*CATALOGUE_ROLES)
@domain_errors
def version_return_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "return", lambda actor, version, data: services.version_return(
        actor=actor, version=version, opinion=data["opinion"]), _("已退回修改。"))


@require_POST
@role_required(*CATALOGUE_ROLES)
@domain_errors
def version_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "approve", lambda actor, version, data: services.version_approve(
        actor=actor, version=version, opinion=data["opinion"]), _("法制审核已通过。"))


@require_POST
@role_required(*CATALOGUE_ROLES)
@domain_errors
def version_schedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "schedule", lambda actor, version, data: services.version_schedule(
        actor=actor, version=version, batch=data["batch"]), _("已列入发布批次。"))


@require_POST
@role_required(*CATALOGUE_ROLES)
@domain_errors
def version_unschedule_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "unschedule", lambda actor, version, data: services.version_unschedule(
        actor=actor, version=version), _("已移出发布批次。"))


@require_POST
@role_required(*CATALOGUE_ROLES)
@domain_errors
def version_publish_urgent_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, "publish_urgent", lambda actor, version, data: services.version_publish_urgent(
        actor=actor, version=version, reason=data["reason"]), _("已紧急发布。"))


# --- publication batches -----------------------------------------------------------------------


@role_required(Role.PLATFORM_ADMIN)
@domain_errors
def batches_view(request: HttpRequest) -> HttpResponse:
    actor = request.user
    form = BatchForm(request.POST or None, initial={"publish_on": services.next_regular_date(timezone.localdate())})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                batch = services.batch_create(
                    actor=actor, publish_on=form.cleaned_data["publish_on"], title=form.cleaned_data["title"]
                )
            except DomainError as exc:
                add_domain_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, _("已建立发布批次“%(title)s”。") % {"title": batch.title})
                return redirect("catalogue_workbench:batch", pk=batch.pk)
        else:
            status = 400
    return render(request, "catalogue/workbench/batches.html", {
        "batches": selectors.batches(actor), "form": form,
    }, status=status)


def _batch(actor: Any, pk: int) -> PublicationBatch:
    batch = selectors.batches(actor).filter(pk=pk).first()
    if batch is None:
        raise NotFound(_("没有找到该发布批次。"))
    return batch


def _render_batch(request: HttpRequest, batch: PublicationBatch, *, error: str = "", status: int = 200) -> HttpResponse:
    versions = selectors.staff_versions(request.user).filter(batch=batch).order_by("item__impl_code")
    return render(request, "catalogue/workbench/batch.html", {
        "batch": batch, "versions": versions, "error": error, "today": timezone.localdate(),
    }, status=status)


@role_required(Role.PLATFORM_ADMIN)
@domain_errors
def batch_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_batch(request, _batch(request.user, pk))


@require_POST
@role_required(Role.PLATFORM_ADMIN)
@domain_errors
def batch_publish_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.user
    batch = _batch(actor, pk)
    try:
        services.batch_publish(actor=actor, batch=batch)
    except DomainError as exc:
        return _render_batch(request, batch, error=exc.message, status=exc.status_code)
    messages.success(request, _("批次“%(title)s”已发布。") % {"title": batch.title})
    return redirect("catalogue_workbench:batch", pk=batch.pk)
