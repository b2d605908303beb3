"""Charts drawn on the server as SVG: no script, no CDN, nothing fetched by the browser. The
page's style sheet colours them (classes), so they follow the light page and the dark screen.

Each function returns SafeString markup; every text in it is escaped.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 36


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str  # an-series-1, an-series-2 ...


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _frame(title: str, labels: Sequence[str], top: float, unit: str) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        (
            f'<svg class="an-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        )
    ]
    for i in range(5):
        y = TOP + plot_h * i / 4
        value = top * (4 - i) / 4
        text = (
            f"{value:.0f}{unit}" if value >= 10 or value == 0 else f"{value:.1f}{unit}"
        )
        parts.append(
            f'<line class="an-grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="an-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(text)}</text>'
        )
    step = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % step == 0:
            x = LEFT + plot_w * (i + 0.5) / max(1, len(labels))
            parts.append(
                f'<text class="an-axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return parts


def _legend(series: Sequence[Series]) -> str:
    items = "".join(
        f'<tspan class="{s.css}-text" dx="12">■ {escape(s.name)}</tspan>'
        for s in series
    )
    return f'<text class="an-legend" x="{LEFT}" y="{HEIGHT - 4}">{items}</text>'


def bars(title: str, labels: Sequence[str], series: Sequence[Series]) -> SafeString:
    """Grouped bars, one group per label."""
    top = _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    parts = _frame(title, labels, top, "")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(labels))
    bar_w = group_w * 0.8 / max(1, len(series))
    for n, one in enumerate(series):
        for i, value in enumerate(one.values):
            height = plot_h * (value or 0) / top
            x = LEFT + group_w * i + group_w * 0.1 + bar_w * n
            parts.append(
                f'<rect class="{one.css}" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar_w:.1f}" '
                f'height="{height:.1f}"><title>{escape(labels[i])} {escape(one.name)}: {value or 0:g}</title>'
                f"</rect>"
            )
    parts.append(_legend(series))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # built above, every text escaped


def lines(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = False,
) -> SafeString:
    """Lines with points; gaps where a value is missing (a month without completions)."""
    top = (
        100.0
        if percent
        else _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    )
    scale = 100 if percent else 1
    parts = _frame(title, labels, top, "%" if percent else "")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    for one in series:
        points = []
        for i, value in enumerate(one.values):
            if value is None:
                continue
            x = LEFT + plot_w * (i + 0.5) / max(1, len(labels))
            y = TOP + plot_h - plot_h * value * scale / top
            points.append((x, y, value))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _v in points)
            parts.append(f'<polyline class="{one.css} an-line" points="{path}"/>')
        for x, y, value in points:
            shown = f"{value * 100:.1f}%" if percent else f"{value:g}"
            parts.append(
                f'<circle class="{one.css}" cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(one.name)}: '
                f"{shown}</title></circle>"
            )
    parts.append(_legend(series))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # built above, every text escaped
