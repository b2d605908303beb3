"""The printed form of a licence (PDF): the type's title, the holder and the fields, the
validity, the issuing department's electronic seal with the signing key's fingerprint, and a
QR code to the public verification page."""

import math
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from reportlab.graphics.shapes import Circle, Drawing, Group, Polygon, String
from reportlab.lib import colors
from reportlab.lib.units import mm

from onewindow.core.pdf import PdfDocument
from onewindow.licences.choices import HolderKind
from onewindow.licences.models import Licence

SEAL_RED = colors.HexColor("#c8102e")
SEAL_MM = 42


def verify_url(licence: Licence, base_url: str) -> str:
    return f"{base_url.rstrip('/')}{reverse('licences:verify_number', args=[licence.number])}"


def _star(cx: float, cy: float, outer: float) -> Polygon:
    inner = outer * 0.382
    points: list[float] = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = math.pi / 2 + i * math.pi / 5
        points += [cx + radius * math.cos(angle), cy + radius * math.sin(angle)]
    return Polygon(points, fillColor=SEAL_RED, strokeColor=None)


def seal_drawing(department: str, caption: str, font: str) -> Drawing:
    """A round official seal: the department's name along the upper rim, a star, and the
    seal's purpose underneath (how Chinese official seals are laid out)."""
    size = SEAL_MM * mm
    centre, radius = size / 2, size / 2 - 2
    drawing = Drawing(size, size)
    drawing.add(
        Circle(
            centre,
            centre,
            radius,
            strokeColor=SEAL_RED,
            strokeWidth=2.2,
            fillColor=None,
        )
    )
    drawing.add(_star(centre, centre + 1 * mm, radius * 0.28))
    span = min(240.0, 18.0 * max(len(department), 1))
    font_size = min(11.0, radius * 0.32)
    for i, char in enumerate(department):
        angle = 90 + span / 2 - (span * (i + 0.5) / len(department))
        theta = math.radians(angle)
        x = centre + (radius - font_size) * math.cos(theta)
        y = centre + (radius - font_size) * math.sin(theta)
        glyph = Group(
            String(
                0,
                -font_size / 3,
                char,
                fontName=font,
                fontSize=font_size,
                fillColor=SEAL_RED,
                textAnchor="middle",
            )
        )
        glyph.transform = (
            math.cos(theta - math.pi / 2),
            math.sin(theta - math.pi / 2),
            -math.sin(theta - math.pi / 2),
            math.cos(theta - math.pi / 2),
            x,
            y,
        )
        drawing.add(glyph)
    drawing.add(
        String(
            centre,
            centre - radius * 0.55,
            caption,
            fontName=font,
            fontSize=font_size * 0.8,
            fillColor=SEAL_RED,
            textAnchor="middle",
        )
    )
    drawing.hAlign = "RIGHT"
    return drawing


def render_pdf(licence: Licence, *, base_url: str) -> bytes:
    licence_type = licence.licence_type
    version = licence.current_version
    title = licence_type.print_title or licence_type.name
    pdf = PdfDocument(
        title=f"{title} {licence.number}",
        author=licence.department.name,
        subject=licence.number,
        footer=f"{licence.department.name} · {title} · {licence.number}",
    )
    pdf.title(title, _("证照编号：%(number)s") % {"number": licence.number})
    holder_label = (
        _("持证人") if licence.holder_kind == HolderKind.PERSON else _("持证单位")
    )
    id_label = (
        _("公民身份号码")
        if licence.holder_kind == HolderKind.PERSON
        else _("统一社会信用代码")
    )
    labels = {
        spec["key"]: spec.get("label") or spec["key"] for spec in licence_type.fields
    }
    rows: list[tuple[str, Any]] = [
        (holder_label, licence.holder_name),
        (id_label, licence.holder_id),
    ]
    for key, value in licence.fields.items():
        shown = (_("是") if value else _("否")) if isinstance(value, bool) else value
        rows.append((labels.get(key, key), shown))
    rows += [
        (
            _("有效期限"),
            _("%(start)s 至 %(end)s")
            % {
                "start": licence.valid_from.isoformat(),
                "end": licence.valid_until.isoformat()
                if licence.valid_until
                else _("长期"),
            },
        ),
        (_("发证日期"), licence.issued_on.isoformat()),
        (
            _("版本"),
            _("第 %(n)s 版（%(kind)s）")
            % {"n": licence.version, "kind": version.get_kind_display()},
        ),
    ]
    if licence.case_number:
        rows.append((_("办件编号"), licence.case_number))
    pdf.key_values(rows)
    if licence_type.print_note:
        pdf.spacer(3)
        pdf.note(licence_type.print_note)
    pdf.spacer(6)
    pdf.flowable(
        seal_drawing(licence.department.name, _("电子证照专用章"), pdf.font.name)
    )
    pdf.note(
        _("签发机构：%(name)s（%(uscc)s）　签名算法：%(algorithm)s　密钥标识：%(key)s")
        % {
            "name": licence.department.name,
            "uscc": licence.department.uscc,
            "algorithm": version.key.get_algorithm_display(),
            "key": version.key.key_id,
        }
    )
    pdf.qr_code(
        verify_url(licence, base_url),
        caption=_("扫码核验证照真伪与状态（证照编号 %(number)s）")
        % {"number": licence.number},
    )
    pdf.note(
        _(
            "本证照的电子数据文件由签发机构以数字签名保护，可在政务服务网“证照核验”上传核验。"
        )
    )
    return pdf.build()
