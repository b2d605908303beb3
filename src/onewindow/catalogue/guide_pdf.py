"""The printable service guide (办事指南) of one version, as a PDF: every element of the guide
page, in the same order, with a QR code linking back to the guide online."""

from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Drawing, Group, Line, String
from reportlab.graphics.shapes import Polygon as PdfPolygon
from reportlab.graphics.shapes import Rect as PdfRect
from reportlab.lib.colors import HexColor

from onewindow.catalogue import flowchart
from onewindow.catalogue.guide import Guide, Row
from onewindow.core.pdf import PdfDocument


def flowchart_drawing(scene: flowchart.Scene, *, font_name: str, max_width: float, max_height: float) -> Drawing:
    """The flowchart as vector shapes for the PDF, scaled down to fit the frame."""
    scale = min(1.0, max_width / scene.width, max_height / scene.height)
    top = scene.height
    group = Group(transform=(scale, 0, 0, scale, 0, 0))
    for shape in scene.shapes:
        if isinstance(shape, flowchart.Rect):
            group.add(PdfRect(
                shape.x, top - shape.y - shape.height, shape.width, shape.height, rx=shape.radius, ry=shape.radius,
                fillColor=HexColor(shape.fill), strokeColor=HexColor(shape.stroke) if shape.stroke else None,
                strokeWidth=1.5 if shape.stroke else 0, strokeDashArray=list(shape.dash) or None,
            ))
        elif isinstance(shape, flowchart.Segment):
            group.add(Line(
                shape.x1, top - shape.y1, shape.x2, top - shape.y2, strokeColor=HexColor(shape.colour),
                strokeWidth=1.5, strokeDashArray=list(shape.dash) or None,
            ))
        elif isinstance(shape, flowchart.Polygon):
            points = [value for x, y in shape.points for value in (x, top - y)]
            group.add(PdfPolygon(points, fillColor=HexColor(shape.fill), strokeColor=None, strokeWidth=0))
        else:
            group.add(String(
                shape.x, top - shape.y, shape.text, fontName=font_name, fontSize=shape.size,
                fillColor=HexColor(shape.colour), textAnchor=shape.anchor,
            ))
    drawing = Drawing(scene.width * scale, scene.height * scale)
    drawing.add(group)
    drawing.hAlign = "CENTER"
    return drawing


def _rows(rows: list[Row]) -> list[tuple[str, str]]:
    out = []
    for row in rows:
        value = row.value or _("无")
        if row.badge:
            value = f"{value}　【{row.badge}】"
        if row.note:
            value = f"{value}\n{row.note}"
        out.append((row.label, value))
    return out


def _text_or_none(text: str) -> str:
    return text or _("无")


def guide_pdf(guide: Guide, *, page_url: str, platform_name: str = "") -> bytes:
    """The guide as PDF bytes; `page_url` (absolute) goes into the QR code."""
    item, version = guide.item, guide.version
    published = version.published_at.strftime("%Y-%m-%d") if version.published_at else ""
    document = PdfDocument(
        title=_("%(name)s 办事指南") % {"name": guide.name},
        author=item.department.name,
        subject=item.impl_code,
        footer=_("%(name)s · 实施编码 %(code)s · 第%(n)s版") % {"name": guide.name, "code": item.impl_code, "n": version.number},
    )
    subtitle = _("%(department)s · 第%(n)s版 · 发布于 %(date)s") % {
        "department": item.department.name, "n": version.number, "date": published,
    }
    if not guide.is_current:
        subtitle = f"{subtitle}\n" + _("本指南为历史版本，仅供查阅；办理请以现行版本为准。")
    document.title(_("%(name)s 办事指南") % {"name": guide.name}, subtitle)

    document.heading(_("一、基本信息"))
    document.key_values(_rows(guide.basic))
    document.heading(_("二、办理时限"))
    document.key_values(_rows(guide.time_limits))
    document.heading(_("三、办理方式"))
    document.key_values(_rows(guide.handling))

    document.heading(_("四、设定依据"))
    document.paragraph(_text_or_none(guide.legal_basis))
    document.heading(_("五、受理条件"))
    document.paragraph(_text_or_none(guide.conditions))

    document.heading(_("六、申请材料"))
    if guide.materials:
        document.table(
            [_("序号"), _("材料名称"), _("来源渠道与出具机构"), _("形式与份数"), _("材料要求"),
             _("设定依据"), _("必要性")],
            [
                [
                    str(m.number),
                    m.name,
                    f"{m.source}\n{m.issuer}" if m.issuer else m.source,
                    _("%(format)s；原件%(originals)s份，复印件%(copies)s份") % {
                        "format": m.format, "originals": m.originals, "copies": m.copies,
                    },
                    "\n".join(part for part in (
                        m.content,
                        _("签字盖章：%(text)s") % {"text": m.sign_seal} if m.sign_seal else "",
                        _("可用电子证照替代：%(licence)s") % {"licence": m.licence} if m.licence else "",
                        _("空白表格、示例样表可在网上下载") if (m.blank_form or m.sample) else "",
                    ) if part),
                    m.basis,
                    "\n".join(part for part in (
                        _("必要") if m.required else _("非必要"),
                        _("可容缺") if m.deferrable else "",
                    ) if part),
                ]
                for m in guide.materials
            ],
            widths=[0.06, 0.17, 0.14, 0.15, 0.24, 0.14, 0.10],
        )
    else:
        document.paragraph(_("无需提交材料。"))

    document.heading(_("七、特别程序"))
    if guide.special_procedures:
        document.table(
            [_("种类"), _("名称"), _("时限"), _("设定依据")],
            [[p.kind, p.name, p.limit, p.basis] for p in guide.special_procedures],
            widths=[0.2, 0.2, 0.2, 0.4],
        )
        document.note(_("特别程序所需时间不计入办理时限。"))
    else:
        document.paragraph(_("无"))

    document.heading(_("八、办理流程"))
    document.flowable(flowchart_drawing(
        flowchart.flowchart_scene(guide.content), font_name=document.font.name,
        max_width=document.frame_width, max_height=document.frame_height - 40,
    ))
    document.spacer(3)
    document.table(
        [_("序号"), _("环节"), _("办理角色"), _("时限"), _("说明")],
        [[str(s.number), s.name, s.role, s.limit, s.description] for s in guide.steps],
        widths=[0.08, 0.22, 0.2, 0.15, 0.35],
    )
    document.note(_("受理环节：不属于受理范围或不符合条件的，出具不予受理决定书；材料不齐全或不符合法定形式的，一次性告知需补正的全部内容。"))

    document.heading(_("九、办理结果"))
    document.key_values(_rows(guide.result))

    document.heading(_("十、收费"))
    if guide.charges_fee and guide.fees:
        document.table(
            [_("收费项目"), _("收费标准"), _("金额"), _("收费依据"), _("允许减免")],
            [[f.name, f.standard, f.amount, f.basis, f.reducible] for f in guide.fees],
            widths=[0.2, 0.2, 0.12, 0.36, 0.12],
        )
    else:
        document.paragraph(_("不收费"))

    document.heading(_("十一、办理地点、时间与咨询监督"))
    document.key_values(_rows(guide.contact))

    document.heading(_("十二、常见问题"))
    if guide.faq:
        for question, answer in guide.faq:
            document.paragraph(_("问：%(q)s") % {"q": question})
            document.note(_("答：%(a)s") % {"a": answer})
    else:
        document.paragraph(_("无"))

    document.heading(_("十三、注意事项"))
    document.paragraph(_text_or_none(guide.notes))

    if guide.form_fields:
        document.heading(_("十四、申请表填写内容"))
        document.table(
            [_("填写项"), _("类型"), _("必填")],
            [[f.label, f.type, f.required] for f in guide.form_fields],
            widths=[0.6, 0.25, 0.15],
        )
    if guide.differences:
        document.heading(_("与基本目录的差异说明"))
        document.key_values(_rows(guide.differences))

    document.qr_code(page_url, caption=_("扫码查看网上办事指南：%(url)s") % {"url": page_url})
    if platform_name:
        document.paragraph(platform_name, style="caption")
    return document.build()
