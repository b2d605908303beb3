"""Open data (数据开放): non-personal datasets as CSV and JSON, listed in a catalogue.

Each dataset is a title, a description, its columns and a function returning its rows. Rows are
catalogue facts (items and guides as published) and aggregate figures (cases, evaluations and
complaints per month and department); no row names or identifies a person. A figure cell
counting fewer than `SMALL_COUNT` people is left out of the case and complaint figures, so a
rare item in a small county cannot point at its one applicant.
"""

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from onewindow.cases.choices import CaseStatus
from onewindow.cases.models import Case
from onewindow.catalogue.models import ImplementationItem
from onewindow.complaints.choices import Status as ComplaintStatus
from onewindow.complaints.models import Complaint
from onewindow.evaluation.choices import SATISFIED_LEVELS
from onewindow.evaluation.models import Evaluation
from onewindow.publicity.choices import PublicationStatus
from onewindow.publicity.models import Publication

SMALL_COUNT = 3
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: Any
    description: Any
    columns: tuple[str, ...]
    rows: Callable[[], Iterable[dict[str, Any]]]
    updated: Any  # how often it changes, for the catalogue


def _month(value: Any) -> str:
    return value.strftime("%Y-%m") if value else ""


def _items() -> Iterable[dict[str, Any]]:
    items = (
        ImplementationItem.objects.filter(current_version__isnull=False)
        .select_related("department", "region")
        .order_by("impl_code")
    )
    for item in items[:MAX_ROWS]:
        yield {
            "impl_code": item.impl_code,
            "name": item.name,
            "item_type": item.get_item_type_display(),
            "department": item.department.name,
            "region_code": item.region.code,
            "promised_days": item.promised_days,
            "visits": item.visits,
            "online_depth": item.online_depth,
            "published_at": item.published_at.date().isoformat()
            if item.published_at
            else "",
        }


def _guides() -> Iterable[dict[str, Any]]:
    items = (
        ImplementationItem.objects.filter(current_version__isnull=False)
        .select_related("current_version", "department")
        .order_by("impl_code")
    )
    for item in items[:MAX_ROWS]:
        content = item.current_version.content
        legal = content.get("legal_limit") or {}
        promised = content.get("promised_limit") or {}
        yield {
            "impl_code": item.impl_code,
            "name": item.name,
            "department": item.department.name,
            "legal_basis": content.get("legal_basis", ""),
            "conditions": content.get("conditions", ""),
            "legal_limit_days": legal.get("amount"),
            "promised_limit_days": promised.get("amount"),
            "materials": "；".join(
                m.get("name", "") for m in content.get("materials") or []
            ),
            "charges_fee": bool(content.get("charges_fee")),
            "version": item.current_version.number,
        }


def _case_figures() -> Iterable[dict[str, Any]]:
    rows = (
        Case.objects.exclude(status=CaseStatus.DRAFT)
        .filter(submitted_at__isnull=False)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month", "department__name", "item__impl_code", "item__name")
        .annotate(
            submitted=Count("pk"),
            completed=Count("pk", filter=Q(completed_at__isnull=False)),
            late=Count(
                "pk",
                filter=Q(
                    completed_at__isnull=False,
                    promised_due__isnull=False,
                    completed_at__date__gt=F("promised_due"),
                ),
            ),
        )
        .filter(submitted__gte=SMALL_COUNT)
        .order_by("month", "department__name", "item__impl_code")
    )
    for row in rows[:MAX_ROWS]:
        yield {
            "month": _month(row["month"]),
            "department": row["department__name"],
            "impl_code": row["item__impl_code"],
            "item": row["item__name"],
            "submitted": row["submitted"],
            "completed": row["completed"],
            "completed_late": row["late"],
        }


def _satisfaction() -> Iterable[dict[str, Any]]:
    rows = (
        Evaluation.objects.filter(counted=True)
        .annotate(month=TruncMonth("rated_at"))
        .values("month", "department__name")
        .annotate(
            ratings=Count("pk"),
            satisfied=Count("pk", filter=Q(level__in=SATISFIED_LEVELS)),
        )
        .order_by("month", "department__name")
    )
    for row in rows[:MAX_ROWS]:
        yield {
            "month": _month(row["month"]),
            "department": row["department__name"],
            "ratings": row["ratings"],
            "satisfied": row["satisfied"],
            "satisfaction_percent": round(100 * row["satisfied"] / row["ratings"], 1),
        }


def _complaint_figures() -> Iterable[dict[str, Any]]:
    rows = (
        Complaint.objects.annotate(month=TruncMonth("received_at"))
        .values("month", "kind", "topic__name", "department__name")
        .annotate(
            received=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            answered_late=Count("pk", filter=Q(overdue_days__gt=0)),
            closed=Count("pk", filter=Q(status=ComplaintStatus.CLOSED)),
        )
        .filter(received__gte=SMALL_COUNT)
        .order_by("month", "kind", "topic__name")
    )
    for row in rows[:MAX_ROWS]:
        yield {
            "month": _month(row["month"]),
            "kind": row["kind"],
            "topic": row["topic__name"] or "",
            "department": row["department__name"] or "",
            "received": row["received"],
            "answered": row["answered"],
            "answered_late": row["answered_late"],
            "closed": row["closed"],
        }


def _decisions() -> Iterable[dict[str, Any]]:
    found = (
        Publication.objects.filter(status=PublicationStatus.PUBLISHED)
        .select_related("department")
        .order_by("-decided_on", "-pk")
    )
    for publication in found[:MAX_ROWS]:
        yield {
            "kind": publication.kind,
            "decision_number": publication.decision_number,
            "title": publication.title,
            "holder_name": publication.holder_name,
            "holder_code": publication.holder_code,
            "content": publication.content,
            "basis": publication.basis,
            "department": publication.department.name,
            "decided_on": publication.decided_on.isoformat(),
            "valid_until": publication.valid_until.isoformat()
            if publication.valid_until
            else "",
            "published_on": publication.published_at.date().isoformat(),
        }


DATASETS = {
    dataset.slug: dataset
    for dataset in (
        Dataset(
            "service-items",
            _("政务服务事项目录"),
            _(
                "已发布的实施清单事项：编码、名称、类型、实施主体、承诺时限、跑动次数、网办深度。"
            ),
            (
                "impl_code",
                "name",
                "item_type",
                "department",
                "region_code",
                "promised_days",
                "visits",
                "online_depth",
                "published_at",
            ),
            _items,
            _("实时"),
        ),
        Dataset(
            "service-guides",
            _("办事指南要素"),
            _(
                "各事项现行办事指南的设定依据、受理条件、法定与承诺时限、申请材料和是否收费。"
            ),
            (
                "impl_code",
                "name",
                "department",
                "legal_basis",
                "conditions",
                "legal_limit_days",
                "promised_limit_days",
                "materials",
                "charges_fee",
                "version",
            ),
            _guides,
            _("实时"),
        ),
        Dataset(
            "case-figures",
            _("办件量统计"),
            _(
                "按月、部门和事项统计的申请量、办结量和超承诺时限办结量（少于3件的不列出）。"
            ),
            (
                "month",
                "department",
                "impl_code",
                "item",
                "submitted",
                "completed",
                "completed_late",
            ),
            _case_figures,
            _("每日"),
        ),
        Dataset(
            "satisfaction",
            _("好差评满意度"),
            _("按月和部门统计的评价数、满意数和满意率（经申诉复核撤销的不计入）。"),
            ("month", "department", "ratings", "satisfied", "satisfaction_percent"),
            _satisfaction,
            _("每日"),
        ),
        Dataset(
            "complaint-figures",
            _("咨询投诉统计"),
            _(
                "按月、类型、类别和承办单位统计的受理量、答复量、超期答复量和办结量（少于3件的不列出）。"
            ),
            (
                "month",
                "kind",
                "topic",
                "department",
                "received",
                "answered",
                "answered_late",
                "closed",
            ),
            _complaint_figures,
            _("每日"),
        ),
        Dataset(
            "decisions",
            _("行政许可和行政处罚结果"),
            _("已公示的行政许可和行政处罚决定（自然人姓名已遮盖）。"),
            (
                "kind",
                "decision_number",
                "title",
                "holder_name",
                "holder_code",
                "content",
                "basis",
                "department",
                "decided_on",
                "valid_until",
                "published_on",
            ),
            _decisions,
            _("实时"),
        ),
    )
}


def as_csv(dataset: Dataset) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=dataset.columns, extrasaction="ignore")
    writer.writeheader()
    for row in dataset.rows():
        writer.writerow(row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def as_json(dataset: Dataset) -> bytes:
    body = {
        "dataset": dataset.slug,
        "title": str(dataset.title),
        "columns": list(dataset.columns),
        "rows": list(dataset.rows()),
    }
    return json.dumps(body, ensure_ascii=False, default=str).encode("utf-8")
