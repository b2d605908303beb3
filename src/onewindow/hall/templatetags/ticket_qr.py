"""QR codes on printed pages (the queue ticket's rating link), drawn as inline SVG so that they
print sharp at any size. The modules come from reportlab's QR encoder at error correction M,
the same as the PDF documents' `PdfDocument.qr_code`."""

import itertools

from django import template
from django.utils.html import format_html
from reportlab.graphics.barcode.qr import QrCodeWidget

register = template.Library()

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


@register.simple_tag
def qr_svg(data: str, label: str = "") -> str:
    """`data` as a QR code: one SVG path of the dark runs of each row of modules."""
    encoder = QrCodeWidget(data, barLevel="M").qr
    encoder.make()
    modules = encoder.modules
    runs = []
    for y, row in enumerate(modules, start=QUIET_ZONE):
        x = QUIET_ZONE
        for dark, run in itertools.groupby(row):
            length = len(list(run))
            if dark:
                runs.append(f"M{x} {y}h{length}v1h-{length}z")
            x += length
    size = len(modules) + 2 * QUIET_ZONE
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" role="img" '
        'aria-label="{label}" shape-rendering="crispEdges" class="qr-code">'
        '<rect width="{size}" height="{size}" fill="#fff"/><path d="{path}" fill="#000"/></svg>',
        size=size,
        label=label,
        path="".join(runs),
    )
