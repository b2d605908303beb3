"""Publicity on the web: the public index (with the case progress lookup the cases app already
serves), the published decisions with their feed, the open-data catalogue and downloads; in the
workbench the department's publications and the publication check.

The progress lookup by case number and query code is `cases:progress`; this app links to it
rather than answering it a second time.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from onewindow.accounts.permissions import staff_required
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell
from onewindow.publicity import opendata, selectors, services
from onewindow.publicity.choices import DecisionKind

domain_errors = refusals_as(problem_page())
PAGE_SIZE = 50


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    return render_in_shell(request, "publicity/index.html", {})


@require_safe
@domain_errors
def decisions(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    kind = kind if kind in DecisionKind.values else ""
    q = request.GET.get("q", "")[:50]
    page = request.GET.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1
    rows = list(
        selectors.published(kind=kind, q=q)[
            (page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1
        ]
    )
    return render_in_shell(
        request,
        "publicity/decisions.html",
        {
            "rows": rows[:PAGE_SIZE],
            "kind": kind,
            "q": q,
            "page": page,
            "has_next": len(rows) > PAGE_SIZE,
            "kinds": DecisionKind.choices,
        },
    )


@require_safe
@domain_errors
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    return render_in_shell(
        request, "publicity/decision.html", {"row": selectors.published_one(pk)}
    )


@require_safe
def datasets(request: HttpRequest) -> HttpResponse:
    return render_in_shell(
        request,
        "publicity/datasets.html",
        {"datasets": list(opendata.DATASETS.values())},
    )


@require_safe
def dataset(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    found = opendata.DATASETS.get(slug)
    if found is None or fmt not in ("csv", "json"):
        raise Http404(_("没有这个数据集。"))
    if fmt == "csv":
        response = HttpResponse(
            opendata.as_csv(found), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            opendata.as_json(found), content_type="application/json; charset=utf-8"
        )
    response["Content-Disposition"] = (
        f'attachment; filename="{slug}-{timezone.localdate():%Y%m%d}.{fmt}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
@staff_required
@domain_errors
def staff(request: HttpRequest) -> HttpResponse:
    """The department's publications to publish and the publication check."""
    return render_in_shell(
        request,
        "publicity/staff.html",
        {
            "pending": list(selectors.for_staff(request.user, status="pending")[:200]),
            "late": list(selectors.late(request.user)[:200]),
            "today": timezone.localdate(),
        },
    )


@require_POST
@staff_required
@domain_errors
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    services.publication_publish(
        actor=request.user, publication=selectors.publication_for(request.user, pk)
    )
    messages.success(request, _("已公示。"))
    return redirect("publicity:staff")
