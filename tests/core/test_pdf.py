"""The shared PDF builder: Chinese text with an embedded font, tables, QR code, page footer."""

import re

from onewindow.core import pdf


def pdf_info_string(data: bytes, key: str) -> str:
    """A text entry of the PDF's document information (/Title, /Author …), decoded."""
    match = re.search(rb"/" + key.encode() + rb" \(((?:\\.|[^\\)])*)\)", data, re.DOTALL)
    assert match, f"no /{key} in the PDF"
    raw, out, i = match.group(1), bytearray(), 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x5C:  # backslash escape
            nxt = raw[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt, nxt)
            i += 2
            continue
        out.append(byte)
        i += 1
    data = bytes(out)
    return data[2:].decode("utf-16-be") if data.startswith(b"\xfe\xff") else data.decode("latin-1")


def page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", data))


def test_a_document_with_every_block_is_a_pdf_with_the_cjk_font():
    document = pdf.PdfDocument(title="食品经营许可 办事指南", author="遵义市市场监督管理局", footer="测试页脚")
    document.title("食品经营许可", "第1版")
    document.heading("基本信息")
    document.paragraph("第一行 <b>不是标记</b> & 符号\n第二行")
    document.note("说明文字")
    document.key_values([("实施编码", "11520300MB0000000X3XK00127000"), ("承诺时限", "8个工作日")])
    document.table(["材料名称", "份数"], [["营业执照", "1"], ["申请书", "2"]], widths=[0.8, 0.2])
    document.bullets(["一", "二"])
    document.qr_code("https://example.org/catalogue/items/X/", caption="扫码查看")
    data = document.build()

    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert pdf_info_string(data, "Title") == "食品经营许可 办事指南"
    assert pdf_info_string(data, "Author") == "遵义市市场监督管理局"
    font = pdf.cjk_font()
    if font.embedded:
        # A TrueType subset travels with the document: readers need no Chinese font of their own.
        assert b"/FontFile2" in data
    else:
        assert font.name.encode() in data


def test_the_footer_numbers_every_page_out_of_the_total(monkeypatch):
    drawn = []
    original = pdf._NumberedCanvas._draw_footer

    def record(canvas, total):
        drawn.append((canvas.getPageNumber(), total, canvas.footer_text))
        original(canvas, total)

    monkeypatch.setattr(pdf._NumberedCanvas, "_draw_footer", record)
    document = pdf.PdfDocument(title="多页", footer="页脚文字")
    document.table(["序号", "内容"], [[str(n), "内容" * 20] for n in range(120)])
    data = document.build()
    pages = page_count(data)
    assert pages >= 3
    assert drawn == [(number, pages, "页脚文字") for number in range(1, pages + 1)]


def test_plain_text_is_escaped_for_paragraph_markup():
    assert pdf.plain("a < b & c\nd") == "a &lt; b &amp; c<br/>d"
    assert pdf.plain(None) == ""


def test_an_empty_document_still_builds():
    data = pdf.PdfDocument(title="空").build()
    assert data.startswith(b"%PDF-") and page_count(data) == 1


def test_the_cid_fallback_is_used_when_no_font_file_is_usable(monkeypatch, tmp_path):
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", ((str(broken), 0), (str(tmp_path / "missing.ttc"), 0)))
    monkeypatch.setattr(pdf, "_fc_match", list)
    monkeypatch.delenv(pdf.FONT_ENV, raising=False)
    pdf.cjk_font.cache_clear()
    try:
        font = pdf.cjk_font()
        assert font == pdf.FontInfo(pdf.CID_FALLBACK, "", embedded=False)
        document = pdf.PdfDocument(title="回退字体")
        document.paragraph("中文内容")
        data = document.build()
        assert data.startswith(b"%PDF-") and b"STSong-Light" in data
    finally:
        pdf.cjk_font.cache_clear()
