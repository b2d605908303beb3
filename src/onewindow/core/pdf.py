"""Printable PDF documents (guides, acceptance notices, licences) with Chinese text.

    document = PdfDocument(title=_("办事指南"), footer=_("遵义市政务服务中心"))
    document.title(_("食品经营许可"))
    document.key_values([(_("实施编码"), code), (_("承诺时限"), _("10个工作日"))])
    document.heading(_("申请材料"))
    document.table([_("材料名称"), _("份数")], [["营业执照", "1"]], widths=[0.7, 0.3])
    document.qr_code(url, caption=_("扫码查看"))
    pdf_bytes = document.build()

Fonts: reportlab cannot draw Chinese with its standard fonts. `cjk_font()` registers the first
TrueType CJK font it finds (ONEWINDOW_PDF_FONT, then the usual Debian/Ubuntu locations of
fonts-wqy-zenhei, fonts-wqy-microhei, fonts-noto-cjk, fonts-arphic, then whatever `fc-match`
names for Chinese) and embeds the glyphs used. OpenType fonts with PostScript outlines (most
Noto CJK builds) are skipped, as reportlab cannot embed them. Without any usable font it falls
back to the Adobe CID font STSong-Light, which is not embedded: viewers then need their own
Chinese font (every mainstream one has it).

Every text helper takes plain text (escaped here); newlines become line breaks.
"""

import functools
import io
import logging
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

logger = logging.getLogger(__name__)

FONT_NAME = "OneWindowCJK"
CID_FALLBACK = "STSong-Light"
FONT_ENV = "ONEWINDOW_PDF_FONT"

# (path, index of the face inside a .ttc collection)
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
)

INK = colors.HexColor("#1b1f24")
MUTED = colors.HexColor("#4d5661")
RULE = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#e8f0fa")
BRAND = colors.HexColor("#0b4a8b")


@dataclass(frozen=True)
class FontInfo:
    name: str
    path: str  # "" for the CID fallback
    embedded: bool


def _fc_match() -> list[tuple[str, int]]:
    """Font files fontconfig knows to cover Chinese (empty without fontconfig). `fc-match`
    would answer with its best guess even when no installed font has Chinese at all."""
    binary = shutil.which("fc-list")
    if binary is None:
        return []
    try:
        result = subprocess.run(
            [binary, "-f", "%{file}|%{index}\n", ":lang=zh-cn"],
            capture_output=True, text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in result.stdout.splitlines()[:10]:
        path, _sep, index = line.partition("|")
        if path.lower().endswith((".ttf", ".ttc", ".otf")):
            found.append((path, int(index) if index.isdigit() else 0))
    return found


def _candidates() -> list[tuple[str, int]]:
    chosen = os.environ.get(FONT_ENV, "").strip()
    first = [(chosen, 0)] if chosen else []
    return [*first, *FONT_CANDIDATES, *_fc_match()]


@functools.cache
def cjk_font() -> FontInfo:
    """Register the CJK font once per process and say which one it is."""
    for path, index in _candidates():
        if not Path(path).is_file():
            continue
        try:
            font = TTFont(FONT_NAME, path, subfontIndex=index)
        except (TTFError, OSError, ValueError, IndexError) as exc:
            # PostScript-outline OpenType (CFF) and damaged files end up here.
            logger.info("PDF font %s not usable: %s", path, exc)
            continue
        if ord("中") not in font.face.charToGlyph:
            logger.info("PDF font %s has no Chinese characters", path)
            continue
        pdfmetrics.registerFont(font)
        _register_family(FONT_NAME)
        return FontInfo(FONT_NAME, path, embedded=True)
    logger.warning("no TrueType CJK font found; PDFs use the non-embedded CID font %s", CID_FALLBACK)
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    _register_family(CID_FALLBACK)
    return FontInfo(CID_FALLBACK, "", embedded=False)


def _register_family(name: str) -> None:
    # One face for every style: <b> in a paragraph must not ask for a font that has no Chinese.
    pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)


def plain(text: object) -> str:
    """Plain text as reportlab paragraph markup: escaped, newlines as line breaks."""
    value = "" if text is None else str(text)
    return escape(value).replace("\r\n", "\n").replace("\n", "<br/>")


class _NumberedCanvas(pdf_canvas.Canvas):
    """Draws "第 n 页 / 共 m 页" and the footer text once the page count is known."""

    footer_text = ""
    font_name = CID_FALLBACK

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._saved_pages: list[dict] = []

    def showPage(self) -> None:
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved_pages)
        for state in self._saved_pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        width, _height = self._pagesize
        self.saveState()
        self.setFont(self.font_name, 8)
        self.setFillColor(MUTED)
        self.setStrokeColor(RULE)
        self.setLineWidth(0.5)
        self.line(18 * mm, 14 * mm, width - 18 * mm, 14 * mm)
        if self.footer_text:
            self.drawString(18 * mm, 9.5 * mm, self.footer_text)
        self.drawRightString(
            width - 18 * mm, 9.5 * mm, _("第 %(page)s 页 / 共 %(total)s 页") % {"page": self._pageNumber, "total": total}
        )
        self.restoreState()


class PdfDocument:
    """An A4 document assembled from a few kinds of block, rendered by `build()`."""

    def __init__(
        self,
        *,
        title: str,
        author: str = "",
        subject: str = "",
        footer: str = "",
        pagesize: tuple[float, float] = A4,
        margins_mm: float = 18,
    ) -> None:
        self.font = cjk_font()
        self.meta_title = title
        self.author = author
        self.subject = subject
        self.footer = footer
        self.pagesize = pagesize
        self.margin = margins_mm * mm
        self.story: list[Flowable] = []
        base = ParagraphStyle(
            "ow-body", fontName=self.font.name, fontSize=10.5, leading=16, textColor=INK, wordWrap="CJK"
        )
        self.styles = {
            "body": base,
            "title": ParagraphStyle(
                "ow-title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4 * mm,
                textColor=BRAND,
            ),
            "subtitle": ParagraphStyle(
                "ow-subtitle", parent=base, fontSize=10, leading=14, alignment=TA_CENTER, textColor=MUTED,
                spaceAfter=4 * mm,
            ),
            "heading": ParagraphStyle(
                "ow-heading", parent=base, fontSize=13, leading=18, spaceBefore=5 * mm, spaceAfter=2 * mm,
                textColor=BRAND, keepWithNext=1,
            ),
            "cell": ParagraphStyle("ow-cell", parent=base, fontSize=9, leading=13),
            "key": ParagraphStyle("ow-key", parent=base, fontSize=9, leading=13, textColor=MUTED),
            "caption": ParagraphStyle(
                "ow-caption", parent=base, fontSize=8, leading=11, alignment=TA_CENTER, textColor=MUTED
            ),
            "note": ParagraphStyle("ow-note", parent=base, fontSize=9, leading=13, textColor=MUTED),
        }

    @property
    def frame_width(self) -> float:
        return self.pagesize[0] - 2 * self.margin

    @property
    def frame_height(self) -> float:
        return self.pagesize[1] - 2 * self.margin - 6 * mm

    # --- blocks -------------------------------------------------------------------------

    def title(self, text: str, subtitle: str = "") -> None:
        self.story.append(Paragraph(plain(text), self.styles["title"]))
        if subtitle:
            self.story.append(Paragraph(plain(subtitle), self.styles["subtitle"]))

    def heading(self, text: str) -> None:
        self.story.append(Paragraph(plain(text), self.styles["heading"]))

    def paragraph(self, text: str, *, style: str = "body") -> None:
        self.story.append(Paragraph(plain(text), self.styles[style]))

    def note(self, text: str) -> None:
        self.paragraph(text, style="note")

    def spacer(self, height_mm: float = 4) -> None:
        self.story.append(Spacer(1, height_mm * mm))

    def page_break(self) -> None:
        self.story.append(PageBreak())

    def _cell(self, value: object, style: str = "cell") -> Paragraph:
        return Paragraph(plain(value), self.styles[style])

    def key_values(self, rows: Sequence[tuple[str, object]], *, key_width: float = 0.28) -> None:
        """Two columns: label, value (a form-like table)."""
        if not rows:
            return
        data = [[self._cell(key, "key"), self._cell(value)] for key, value in rows]
        widths = [self.frame_width * key_width, self.frame_width * (1 - key_width)]
        table = Table(data, colWidths=widths, repeatRows=0)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, RULE),
            ("BACKGROUND", (0, 0), (0, -1), SHADE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]))
        self.story.append(table)

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[object]], *, widths: Sequence[float] | None = None
    ) -> None:
        """A table with a shaded header row repeated on every page; `widths` are fractions."""
        if not rows:
            return
        fractions = list(widths) if widths else [1 / len(header)] * len(header)
        data = [[self._cell(cell, "key") for cell in header]] + [[self._cell(cell) for cell in row] for row in rows]
        table = Table(data, colWidths=[self.frame_width * f for f in fractions], repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, RULE),
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]))
        self.story.append(table)

    def bullets(self, items: Sequence[object]) -> None:
        """A bulleted list."""
        if not items:
            return
        self.story.append(ListFlowable(
            [ListItem(self._cell(item, "body"), leftIndent=12) for item in items],
            bulletType="bullet", start="•", bulletFontName=self.font.name, leftIndent=12,
        ))

    def qr_code(self, data: str, *, size_mm: float = 32, caption: str = "") -> None:
        """A QR code (error correction M) centred, with an optional caption underneath."""
        widget = QrCodeWidget(data, barLevel="M")
        left, bottom, right, top = widget.getBounds()
        size = size_mm * mm
        drawing = Drawing(size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0])
        drawing.add(widget)
        drawing.hAlign = "CENTER"
        block: list[Flowable] = [Spacer(1, 3 * mm), drawing]
        if caption:
            block.append(Paragraph(plain(caption), self.styles["caption"]))
        self.story.append(KeepTogether(block))

    def flowable(self, flowable: Flowable) -> None:
        """Anything else reportlab can lay out."""
        self.story.append(flowable)

    # --- output -------------------------------------------------------------------------

    def build(self) -> bytes:
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=self.pagesize,
            leftMargin=self.margin,
            rightMargin=self.margin,
            topMargin=self.margin,
            bottomMargin=self.margin + 6 * mm,
            title=self.meta_title,
            author=self.author,
            subject=self.subject,
            creator="OneWindow",
        )
        canvas_class = type(
            "OneWindowCanvas", (_NumberedCanvas,), {"footer_text": self.footer, "font_name": self.font.name}
        )
        document.build(self.story or [Spacer(1, 1)], canvasmaker=canvas_class)
        return buffer.getvalue()
