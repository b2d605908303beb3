"""The licence library on the web (mounted at /licences/): the holder's directory with
downloads, shared copies and the access log; the public verification page (by number, from
the QR code, or by uploading a data file); and the staff lookup of another department's
licence for a case they handle.

Thin views: reads through `selectors`, every change through `services`. A refusal is shown
with the service's message and its 4xx status and changes nothing.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from onewindow.accounts.permissions import account_required, staff_required
from onewindow.core.errors import InvalidInput
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell
from onewindow.licences import printing, ratelimit, selectors, services
from onewindow.licences.document import MAX_FILE_BYTES

domain_errors = refusals_as(problem_page("licences:mine", _("返回我的证照")))
public_errors = refusals_as(problem_page("licences:verify", _("返回证照核验")))


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- the holder's directory -------------------------------------------------------------------------


@require_safe
@account_required
def mine_view(request: HttpRequest) -> HttpResponse:
    """我的证照: the resident directory (by ID number) and the legal-person directories (by USCC)."""
    licences = list(
        selectors.my_licences(request.user).order_by(
            "holder_kind", "-issued_on", "-id"
        )[:500]
    )
    return render_in_shell(
        request,
        "licences/mine.html",
        {"licences": licences, "holder_ids": selectors.holder_ids_of(request.user)},
    )


@require_safe
@account_required
@domain_errors
def detail_view(request: HttpRequest, number: str) -> HttpResponse:
    licence = selectors.my_licence(request.user, number)
    return render_in_shell(
        request,
        "licences/detail.html",
        {
            "licence": licence,
            "versions": licence.versions.order_by("-number"),
            "accesses": selectors.accesses(licence)[:200],
            "hideable": selectors.hideable_paths(licence),
            "labels": selectors.field_labels(licence.licence_type),
        },
    )


@require_safe
@account_required
@domain_errors
def pdf_view(request: HttpRequest, number: str) -> HttpResponse:
    licence = selectors.my_licence(request.user, number)
    services.licence_record_download(actor=request.user, licence=licence, what="pdf")
    return _attachment(
        printing.render_pdf(licence, base_url=_base_url(request)),
        "application/pdf",
        f"{licence.number}.pdf",
    )


@require_safe
@account_required
@domain_errors
def data_view(request: HttpRequest, number: str) -> HttpResponse:
    """The signed data file of the current version."""
    licence = selectors.my_licence(request.user, number)
    services.licence_record_download(actor=request.user, licence=licence, what="data")
    return _attachment(
        licence.current_version.document.encode(),
        "application/json",
        f"{licence.number}.json",
    )


@require_POST
@account_required
@domain_errors
def share_view(request: HttpRequest, number: str) -> HttpResponse:
    """A verifiable copy with the ticked facts hidden (selective disclosure)."""
    licence = selectors.my_licence(request.user, number)
    copy = services.shared_copy(licence, request.POST.getlist("hide"))
    services.licence_record_download(
        actor=request.user, licence=licence, what="shared copy"
    )
    return _attachment(
        copy.encode(), "application/json", f"{licence.number}-shared.json"
    )


# --- public verification ------------------------------------------------------------------------------


def _result_page(
    request: HttpRequest, report: Any, *, number: str = "", status: int = 200
) -> HttpResponse:
    return render_in_shell(
        request,
        "licences/verify.html",
        {
            "report": report,
            "facts": selectors.public_facts(report) if report else {},
            "number": number,
            "max_mb": MAX_FILE_BYTES // 1024,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@public_errors
def verify_view(request: HttpRequest) -> HttpResponse:
    """证照核验: enter a number (GET ?number=) or upload a data file (POST)."""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(_("请选择要核验的电子证照数据文件。"), field="file")
        if upload.size > MAX_FILE_BYTES:
            raise InvalidInput(
                _("文件过大，电子证照数据文件不超过 %(kb)s KB。")
                % {"kb": MAX_FILE_BYTES // 1024},
                field="file",
            )
        ratelimit.check_lookup(request.META.get("REMOTE_ADDR"))
        return _result_page(request, selectors.verify_file(upload.read()))
    number = request.GET.get("number", "")
    if number:
        return redirect("licences:verify_number", number=number.strip().upper()[:40])
    return _result_page(request, None)


@require_safe
@public_errors
def verify_number_view(request: HttpRequest, number: str) -> HttpResponse:
    """The QR code's target: the licence with that number, checked as its data file would be."""
    address = request.META.get("REMOTE_ADDR")
    ratelimit.check_lookup(address)
    report = selectors.verify_number(number)
    if report is None:
        ratelimit.record_miss(address)
        return render_in_shell(
            request,
            "licences/verify.html",
            {"number": number, "missing": True, "max_mb": MAX_FILE_BYTES // 1024},
            status=404,
        )
    return _result_page(request, report, number=str(report.facts.get("number", number)))


# --- staff lookup ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required
@refusals_as(problem_page("licences:lookup", _("返回证照调用")))
def lookup_view(request: HttpRequest) -> HttpResponse:
    """Another department's licence, for a case the staff member handles, with the purpose."""
    licence = None
    if request.method == "POST":
        licence = services.licence_lookup(
            actor=request.user,
            number=request.POST.get("number", ""),
            case_number=request.POST.get("case_number", ""),
            purpose=request.POST.get("purpose", ""),
        )
    return render_in_shell(
        request,
        "licences/lookup.html",
        {
            "licence": licence,
            "report": selectors.verify_licence(licence) if licence else None,
            "labels": selectors.field_labels(licence.licence_type) if licence else {},
        },
    )
