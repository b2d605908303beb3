"""The written documents of a case (收件回执, 受理通知书, 补正告知书 …) as PDFs.

Every document is drawn from the facts frozen when it was issued (`CaseDocument.facts`), so a
copy printed later says what was decided then. One layout table says, per kind, the opening
sentence, the sections (rows, texts, lists) with the facts they show, the closing sentence and
the seal; `document_content` applies it and `render_pdf` draws the result:

    content = document_content(document)          # what the document says, for tests and screens
    pdf = render_pdf(document, base_url="https://zwfw.example.gov.cn")

Each document carries the issuing department and its USCC, the document number and date, a
line for the seal (受理专用章 for acceptance documents, 行政审批专用章 for decisions; the
electronic seal itself is applied by the licence library), and a QR code holding the absolute
URL of the public progress lookup (`cases:progress`) with the case number and query code.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from onewindow.cases.choices import DocumentKind
from onewindow.cases.models import Case, CaseDocument
from onewindow.core.pdf import PdfDocument, plain

# The public address of the platform ("https://zwfw.example.gov.cn"), used for the QR code
# when no request is at hand (the CLI, exports); a view passes the request's own address.
BASE_URL_SETTING = "ONEWINDOW_PUBLIC_URL"

ACCEPTANCE_SEAL = gettext_lazy("受理专用章")
APPROVAL_SEAL = gettext_lazy("行政审批专用章")
REMEDY = gettext_lazy("如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。")


# --- the progress link -------------------------------------------------------------------------


def base_url_from_request(request: Any) -> str:
    """The scheme and host the request came in on ("https://host"), for `render_pdf`."""
    return request.build_absolute_uri("/").rstrip("/")


def default_base_url() -> str:
    return str(getattr(settings, BASE_URL_SETTING, "") or "").rstrip("/")


def progress_path() -> str | None:
    """The path of the public progress lookup, once the case pages provide "cases:progress"."""
    try:
        return reverse("cases:progress")
    except NoReverseMatch:
        return None


def progress_url(case: Case, base_url: str) -> str | None:
    """The absolute URL of the case's public progress lookup (number and query code filled in),
    or None while no page answers to "cases:progress"."""
    path = progress_path()
    if path is None or not case.number:
        return None
    query = urlencode({"number": case.number, "code": case.query_code})
    return f"{base_url.rstrip('/')}{path}?{query}"


# --- formatting of facts ---------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _date(value: Any) -> str:
    """"2026-12-04" (or a date) as 2026年12月4日."""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    elif not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(_text(value)[:10])
        except ValueError:
            return _text(value)
    return _("%(year)s年%(month)s月%(day)s日") % {"year": value.year, "month": value.month, "day": value.day}


def _moment(value: Any) -> str:
    """An ISO date-time as 2026年12月4日 14:30, in local time."""
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(_text(value))
        except ValueError:
            return _text(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{_date(value.date())} {value:%H:%M}"


def _material_names(case: Case | None) -> dict[str, str]:
    if case is None or case.version_id is None:
        return {}
    materials = case.version.content.get("materials", [])
    return {m["key"]: m.get("name", m["key"]) for m in materials if isinstance(m, dict) and "key" in m}


def _names(value: Any, document: CaseDocument) -> list[str]:
    """Materials given by name, by key (named from the case's guide version) or as {"name": …}."""
    if not isinstance(value, list):
        return []
    known = _material_names(document.case if document.case_id else None)
    names = []
    for entry in value:
        if isinstance(entry, dict):
            name = _text(entry.get("name")) or known.get(_text(entry.get("material_key")), "")
        else:
            name = known.get(_text(entry), _text(entry))
        if name:
            names.append(name)
    return names


def _missing_rows(value: Any, document: CaseDocument) -> list[list[str]]:
    """补正告知书: every item to correct, numbered, with what is required."""
    if not isinstance(value, list):
        return []
    known = _material_names(document.case if document.case_id else None)
    rows = []
    for entry in value:
        if not isinstance(entry, dict):
            continue
        name = _text(entry.get("name")) or known.get(_text(entry.get("material_key")), "") or _("申请表及其他事项")
        rows.append([str(len(rows) + 1), name, _text(entry.get("reason"))])
    return rows


def _on_receipt(value: Any) -> str:
    if not value:
        return ""
    return _("本机关未在法定期限内作出处理，依照《中华人民共和国行政许可法》第三十二条，自收到申请材料之日起即为受理。")


# --- the layout table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One section of a document as drawn: rows (label, value), a text, a table or a list."""

    kind: str  # "rows" | "text" | "table" | "list"
    heading: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    text: str = ""
    header: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    items: tuple[str, ...] = ()
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Field:
    label: Promise
    key: str
    show: Callable[[Any], str] = _text
    default: Promise | None = None


@dataclass(frozen=True)
class Rows:
    fields: tuple[Field, ...]
    heading: Promise | None = None

    def block(self, facts: dict[str, Any], document: CaseDocument) -> Block | None:
        rows = []
        for f in self.fields:
            raw = facts.get(f.key)
            value = f.show(raw) if raw not in (None, "") else ""
            value = value or (str(f.default) if f.default is not None else "")
            if value:
                rows.append((str(f.label), value))
        return Block("rows", heading=str(self.heading or ""), rows=tuple(rows)) if rows else None


@dataclass(frozen=True)
class Text:
    heading: Promise | None
    key: str
    show: Callable[[Any], str] = _text
    default: Promise | None = None

    def block(self, facts: dict[str, Any], document: CaseDocument) -> Block | None:
        text = self.show(facts.get(self.key)) or (str(self.default) if self.default is not None else "")
        return Block("text", heading=str(self.heading or ""), text=text) if text else None


@dataclass(frozen=True)
class Listing:
    heading: Promise
    key: str
    items: Callable[[Any, CaseDocument], list[str]] = _names

    def block(self, facts: dict[str, Any], document: CaseDocument) -> Block | None:
        items = self.items(facts.get(self.key), document)
        return Block("list", heading=str(self.heading), items=tuple(items)) if items else None


@dataclass(frozen=True)
class Table:
    heading: Promise
    key: str
    header: tuple[Promise, ...]
    rows: Callable[[Any, CaseDocument], list[list[str]]]
    widths: tuple[float, ...] = ()

    def block(self, facts: dict[str, Any], document: CaseDocument) -> Block | None:
        rows = self.rows(facts.get(self.key), document)
        if not rows:
            return None
        return Block("table", heading=str(self.heading), header=tuple(str(h) for h in self.header),
                     table=tuple(tuple(row) for row in rows), widths=self.widths)


Section = Rows | Text | Listing | Table


@dataclass(frozen=True)
class Layout:
    seal: Promise
    opening: Promise  # %(applicant)s, %(item)s
    sections: tuple[Section, ...]
    closing: Promise | None = None


_BASIS = gettext_lazy("法律依据")
_REMEDY = gettext_lazy("救济途径")

LAYOUTS: dict[str, Layout] = {
    DocumentKind.RECEIPT: Layout(
        seal=ACCEPTANCE_SEAL,
        opening=gettext_lazy("%(applicant)s：\n您申请办理“%(item)s”提交的申请材料已收到，特出具本回执。"),
        sections=(
            Rows((Field(gettext_lazy("申请时间"), "submitted_at", _moment),
                  Field(gettext_lazy("受理决定期限"), "acceptance_due", _date))),
            Listing(gettext_lazy("申请容缺受理、承诺后补的材料"), "deferral"),
        ),
        closing=gettext_lazy("本机关将在受理决定期限前作出受理或者不予受理的决定，材料不齐全或者不符合法定形式的，"
                             "一次性告知需要补正的全部内容；逾期不告知的，自收到申请材料之日起即为受理。"),
    ),
    DocumentKind.ACCEPTANCE: Layout(
        seal=ACCEPTANCE_SEAL,
        opening=gettext_lazy("%(applicant)s：\n您申请办理的“%(item)s”，申请材料齐全、符合法定形式，本机关决定予以受理。"),
        sections=(
            Text(None, "on_receipt", _on_receipt),
            Rows((Field(gettext_lazy("受理时间"), "accepted_at", _moment),
                  Field(gettext_lazy("承诺办结日期"), "promised_due", _date),
                  Field(gettext_lazy("法定办结日期"), "legal_due", _date))),
        ),
        closing=gettext_lazy("办理期限按工作日计算；依法需要听证、检验、检测、检疫、鉴定、专家评审等特别程序的，"
                             "所需时间不计算在期限内，本机关将书面告知。"),
    ),
    DocumentKind.REFUSAL: Layout(
        seal=ACCEPTANCE_SEAL,
        opening=gettext_lazy("%(applicant)s：\n您申请办理的“%(item)s”，经审查，本机关决定不予受理。"),
        sections=(
            Text(gettext_lazy("不予受理的理由"), "reasons"),
            Text(_BASIS, "basis"),
            Text(_REMEDY, "remedy", default=REMEDY),
        ),
    ),
    DocumentKind.SUPPLEMENT: Layout(
        seal=ACCEPTANCE_SEAL,
        opening=gettext_lazy("%(applicant)s：\n您申请办理的“%(item)s”，申请材料不齐全或者不符合法定形式，"
                             "现一次性告知需要补正的全部内容如下。"),
        sections=(
            Table(gettext_lazy("需要补正的材料和事项"), "missing",
                  (gettext_lazy("序号"), gettext_lazy("材料或事项"), gettext_lazy("补正要求")), _missing_rows,
                  widths=(0.1, 0.35, 0.55)),
            Text(gettext_lazy("说明"), "note"),
        ),
        closing=gettext_lazy("请按上述要求一并补正后重新提交。本机关自收到全部补正材料之日起五个工作日内作出是否受理的决定。"),
    ),
    DocumentKind.DEFERRAL: Layout(
        seal=ACCEPTANCE_SEAL,
        opening=gettext_lazy("%(applicant)s：\n您申请办理的“%(item)s”，主要申请材料齐全、符合法定形式，"
                             "根据您的承诺，本机关对下列次要材料予以容缺受理。"),
        sections=(
            Listing(gettext_lazy("容缺的材料"), "materials"),
            Rows((Field(gettext_lazy("补交期限"), "due", _date),
                  Field(gettext_lazy("补交方式"), "how",
                        default=gettext_lazy("在网上办事大厅本办件页面上传，或携带原件到受理窗口提交。"))),
                 heading=gettext_lazy("补交期限和方式")),
            Text(gettext_lazy("逾期未补交的后果"), "consequence"),
            Text(gettext_lazy("申请人承诺"), "commitment"),
        ),
    ),
    DocumentKind.APPROVAL: Layout(
        seal=APPROVAL_SEAL,
        opening=gettext_lazy("%(applicant)s：\n您申请办理的“%(item)s”，经审查，符合法定条件、标准，本机关决定准予许可。"),
        sections=(
            Rows((Field(gettext_lazy("审批结果"), "result_name"),
                  Field(gettext_lazy("电子证照编号"), "licence_number"))),
            Text(gettext_lazy("决定意见"), "opinion"),
        ),
    ),
    DocumentKind.DENIAL: Layout(
        seal=APPROVAL_SEAL,
        opening=gettext_lazy("%(applicant)s：\n您申请办理的“%(item)s”，经审查，本机关决定不予许可。"),
        sections=(
            Text(gettext_lazy("不予许可的理由"), "reasons"),
            Text(_BASIS, "basis"),
            Text(_REMEDY, "remedy", default=REMEDY),
        ),
    ),
    DocumentKind.TERMINATION: Layout(
        seal=APPROVAL_SEAL,
        opening=gettext_lazy("%(applicant)s：\n您申请办理的“%(item)s”，本机关决定终止办理。"),
        sections=(Text(gettext_lazy("终止办理的理由"), "reason"),),
    ),
}


# --- content and drawing -----------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """Everything a document says, in reading order."""

    title: str
    number: str
    date: str
    case_number: str
    item: str
    impl_code: str
    applicant: str
    department: str
    department_uscc: str
    seal: str
    opening: str
    blocks: tuple[Block, ...]
    closing: str
    heading_rows: tuple[tuple[str, str], ...]  # case number, item, implementation code, applicant
    qr_data: str | None  # the absolute progress URL; None without a base URL or a progress page
    query_code: str


def document_content(document: CaseDocument, *, base_url: str | None = None) -> Content:
    """Apply the kind's layout to the document's frozen facts."""
    layout = LAYOUTS[document.kind]
    facts = document.facts if isinstance(document.facts, dict) else {}
    case = document.case if document.case_id else None
    names = {"applicant": _text(facts.get("applicant")), "item": _text(facts.get("item"))}
    blocks = tuple(b for b in (section.block(facts, document) for section in layout.sections) if b is not None)
    case_number = _text(facts.get("case_number")) or (case.number if case else "") or ""
    heading_rows = (
        (_("办件编号"), case_number),
        (_("事项名称"), names["item"]),
        (_("实施编码"), _text(facts.get("impl_code"))),
        (_("申请人"), names["applicant"]),
    )
    base = default_base_url() if base_url is None else base_url
    link = progress_url(case, base) if case is not None else None
    return Content(
        title=str(DocumentKind(document.kind).label),
        number=document.number,
        date=_date(document.issued_at),
        case_number=case_number,
        item=names["item"],
        impl_code=_text(facts.get("impl_code")),
        applicant=names["applicant"],
        department=_text(facts.get("department")),
        department_uscc=_text(facts.get("department_uscc")),
        seal=str(layout.seal),
        opening=str(layout.opening) % names,
        blocks=blocks,
        closing=str(layout.closing) if layout.closing is not None else "",
        heading_rows=tuple((label, value) for label, value in heading_rows if value),
        # A relative link in print leads nowhere: then the number and query code are printed.
        qr_data=link if link and link.startswith(("https://", "http://")) else None,
        query_code=case.query_code if case is not None else "",
    )


def _draw(pdf: PdfDocument, block: Block) -> None:
    if block.heading:
        pdf.heading(block.heading)
    else:
        pdf.spacer(2)
    if block.kind == "rows":
        pdf.key_values(block.rows)
    elif block.kind == "text":
        pdf.paragraph(block.text)
    elif block.kind == "table":
        pdf.table(block.header, block.table, widths=block.widths or None)
    elif block.kind == "list":
        pdf.bullets(block.items)


def render_pdf(document: CaseDocument, *, base_url: str | None = None) -> bytes:
    """The document as PDF bytes. `base_url` ("https://host", see `base_url_from_request`) makes
    the QR code's progress link absolute; when it is None the ONEWINDOW_PUBLIC_URL setting is
    used, and without either the number and query code are printed instead of a QR code."""
    content = document_content(document, base_url=base_url)
    pdf = PdfDocument(
        title=f"{content.title} {content.number}",
        author=content.department,
        subject=content.number,
        footer=f"{content.department} · {content.title} · {content.number}",
    )
    pdf.title(content.title, _("文书编号：%(number)s") % {"number": content.number})
    pdf.key_values(content.heading_rows)
    pdf.spacer(3)
    pdf.paragraph(content.opening)
    for block in content.blocks:
        _draw(pdf, block)
    if content.closing:
        pdf.spacer(2)
        pdf.paragraph(content.closing)
    pdf.spacer(10)
    right = ParagraphStyle("ow-seal", parent=pdf.styles["body"], alignment=TA_RIGHT)
    lines = [_("%(department)s（%(seal)s）（盖章）") % {"department": content.department, "seal": content.seal}]
    if content.department_uscc:
        lines.append(_("统一社会信用代码：%(uscc)s") % {"uscc": content.department_uscc})
    lines.append(content.date)
    for line in lines:
        pdf.flowable(Paragraph(plain(line), right))
    if content.qr_data:
        pdf.qr_code(content.qr_data, caption=_("扫码查询办理进度（办件编号 %(number)s，查询码 %(code)s）")
                    % {"number": content.case_number, "code": content.query_code})
    elif content.query_code:
        pdf.spacer(4)
        pdf.note(_("凭办件编号 %(number)s 和查询码 %(code)s 可在政务服务网查询办理进度。")
                 % {"number": content.case_number, "code": content.query_code})
    return pdf.build()
