"""The process flowchart (运行流程图) of a guide, drawn as a standalone SVG.

Top to bottom: start, each step of the process (name, role, time limit), end (办结/送达).
Beside the acceptance step a branch to 不予受理 and 一次性告知补正; beside the review steps the
special procedures (不计入办理时限). No script, no style element or attribute (the site's CSP
allows neither), only presentation attributes, so the same markup works inline in a page, as
an <img>, and in print. The output depends only on the content and the active language.

Text widths are estimated (a CJK character is one em, Latin letters and digits about 0.6 em),
which is exact enough for the CJK fonts named in FONT_FAMILY.
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.utils.translation import gettext as _

from onewindow.accounts.choices import Role
from onewindow.catalogue.choices import StepKind, TimeUnit

FONT_FAMILY = "'Noto Sans CJK SC','WenQuanYi Zen Hei','PingFang SC','Microsoft YaHei',sans-serif"
FONT_SIZE = 14
SMALL_SIZE = 12
LINE = 20  # line height for FONT_SIZE
SMALL_LINE = 17
TITLE_SIZE = 16
TITLE_LINE = 22
PAD_X = 16
PAD_Y = 10
MARGIN = 20
GAP = 34  # vertical space between boxes (holds an arrow)
SIDE_GAP = 56  # horizontal space between the main column and the side column
MAIN_MIN = 240
MAIN_MAX = 380
SIDE_MIN = 200
SIDE_MAX = 340

BLUE = "#0b4a8b"
BLUE_LIGHT = "#e8f0fa"
INK = "#1b1f24"
MUTED = "#4d5661"
RED = "#b3261e"
RED_LIGHT = "#fbeceb"
AMBER = "#8a5a00"
AMBER_LIGHT = "#fff6e0"
WHITE = "#ffffff"


def char_width(char: str, size: float) -> float:
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return size
    if unicodedata.combining(char):
        return 0
    return size * 0.6


def text_width(text: str, size: float = FONT_SIZE) -> float:
    return sum(char_width(char, size) for char in text)


def wrap(text: str, width: float, size: float = FONT_SIZE) -> list[str]:
    """Lines of at most `width` pixels, cut between characters (Chinese has no spaces), at a
    space where a Latin word would otherwise be split."""
    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        line, used = "", 0.0
        for char in paragraph:
            step = char_width(char, size)
            if line and used + step > width:
                cut = line.rfind(" ")
                if char != " " and not _is_wide(char) and cut > 0 and not _is_wide(line[-1]):
                    lines.append(line[:cut])
                    line = line[cut + 1 :]
                    used = text_width(line, size)
                else:
                    lines.append(line.rstrip())
                    line, used = "", 0.0
                    if char == " ":
                        continue
            line += char
            used += step
        lines.append(line.rstrip())
    return [line for line in lines if line] or [""]


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _days(amount: Any, unit: str = TimeUnit.WORKING_DAY) -> str:
    try:
        days = int(amount)
    except (TypeError, ValueError):
        return ""
    if days == 0:
        return _("当场办结")
    if unit == TimeUnit.NATURAL_DAY:
        return _("%(n)s个自然日") % {"n": days}
    return _("%(n)s个工作日") % {"n": days}


def _role(value: Any) -> str:
    try:
        return str(Role(value).label)
    except ValueError:
        return str(value or "")


def _num(value: float) -> str:
    """Coordinates as short, stable text."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


@dataclass
class _Line:
    text: str
    size: int = FONT_SIZE
    colour: str = INK
    weight: str = "normal"

    @property
    def height(self) -> int:
        return LINE if self.size >= FONT_SIZE else SMALL_LINE


@dataclass
class _Box:
    lines: list[_Line]
    width: float
    fill: str = BLUE_LIGHT
    stroke: str = BLUE
    dashed: bool = False
    rounded: float = 4
    x: float = 0
    y: float = 0

    @property
    def height(self) -> float:
        return sum(line.height for line in self.lines) + 2 * PAD_Y

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def mid_y(self) -> float:
        return self.y + self.height / 2


# --- the drawing as shapes, in SVG coordinates (y grows downwards) ------------------------------


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    stroke: str = ""
    radius: float = 0
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Polygon:
    points: tuple[tuple[float, float], ...]
    fill: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float  # baseline
    text: str
    size: int
    colour: str
    anchor: str = "middle"  # "start" or "middle"
    bold: bool = False


Shape = Rect | Segment | Polygon | Label


@dataclass(frozen=True)
class Scene:
    width: float
    height: float
    title: str
    shapes: tuple[Shape, ...]


def _lines(text: str, width: float, **style: Any) -> list[_Line]:
    size = style.get("size", FONT_SIZE)
    return [_Line(part, **style) for part in wrap(text, width - 2 * PAD_X, size)]


def _fit(texts: Iterable[tuple[str, int]], low: float, high: float) -> float:
    """A box width that holds the longest text on one line, within [low, high]."""
    widest = max((text_width(text, size) for text, size in texts), default=0)
    return max(low, min(high, widest + 2 * PAD_X))


def _label(x: float, y: float, line: _Line, anchor: str = "middle") -> Label:
    return Label(x, y, line.text, line.size, line.colour, anchor, line.weight == "bold")


def _box_shapes(box: _Box) -> list[Shape]:
    out: list[Shape] = [
        Rect(box.x, box.y, box.width, box.height, box.fill, box.stroke, box.rounded, (6, 4) if box.dashed else ())
    ]
    baseline = box.y + PAD_Y
    for line in box.lines:
        # Baseline about 0.8 of the line height below its top, for CJK glyphs.
        out.append(_label(box.cx, baseline + line.height * 0.78, line))
        baseline += line.height
    return out


def _arrow(x1: float, y1: float, x2: float, y2: float, colour: str = BLUE, dashed: bool = False) -> list[Shape]:
    """A straight arrow (downwards or to the right) with a triangular head."""
    size = 7
    half = size / 2 + 1
    if x1 == x2:  # vertical, downwards
        corners = ((x2 - half, y2 - size), (x2 + half, y2 - size), (x2, y2))
        end = (x2, y2 - size)
    else:  # horizontal, to the right
        corners = ((x2 - size, y2 - half), (x2 - size, y2 + half), (x2, y2))
        end = (x2 - size, y2)
    return [Segment(x1, y1, end[0], end[1], colour, (5, 4) if dashed else ()), Polygon(corners, colour)]


def _special_text(procedure: dict[str, Any]) -> str:
    limit = _days(procedure.get("max_days"), procedure.get("unit", TimeUnit.WORKING_DAY))
    return _("特别程序：%(name)s（不超过%(limit)s，不计入时限）") % {
        "name": procedure.get("name", ""),
        "limit": limit,
    }


def flowchart_scene(content: dict[str, Any]) -> Scene:
    """The flowchart of the process in `content` (an item version's content), as shapes."""
    steps = [step for step in content.get("steps") or [] if isinstance(step, dict)]
    specials = [p for p in content.get("special_procedures") or [] if isinstance(p, dict)]
    name = str(content.get("name") or "")

    # --- main column: start, steps, end --------------------------------------------------
    start_text = _("开始：申请人提交申请")
    end_text = _("办结/送达")
    step_texts = []
    for step in steps:
        step_texts.append((str(step.get("name") or ""), FONT_SIZE))
        step_texts.append((_("办理角色：%(role)s") % {"role": _role(step.get("role"))}, SMALL_SIZE))
    main_width = _fit([(start_text, FONT_SIZE), (end_text, FONT_SIZE), *step_texts], MAIN_MIN, MAIN_MAX)

    def terminal(text: str) -> _Box:
        return _Box(_lines(text, main_width, weight="bold", colour=WHITE), main_width, fill=BLUE, stroke=BLUE,
                    rounded=22)

    main: list[_Box] = [terminal(start_text)]
    accept_index: int | None = None
    review_indexes: list[int] = []
    for index, step in enumerate(steps):
        lines = _lines(str(step.get("name") or ""), main_width, weight="bold")
        lines += _lines(_("办理角色：%(role)s") % {"role": _role(step.get("role"))}, main_width,
                        size=SMALL_SIZE, colour=MUTED)
        limit = _days(step.get("limit_days"))
        if limit:
            lines += _lines(_("时限：%(limit)s") % {"limit": limit}, main_width, size=SMALL_SIZE, colour=MUTED)
        main.append(_Box(lines, main_width))
        kind = step.get("kind")
        if kind == StepKind.ACCEPT and accept_index is None:
            accept_index = len(main) - 1
        elif kind == StepKind.REVIEW:
            review_indexes.append(len(main) - 1)
    main.append(terminal(end_text))

    # --- side column: the acceptance branch and the special procedures -----------------------
    refuse_texts = [
        (_("不予受理"), _("不属于本机关职权范围或不符合受理条件，出具不予受理决定书")),
        (_("一次性告知补正"), _("材料不齐全或不符合法定形式，一次性告知需补正的全部内容")),
    ]
    special_texts = [_special_text(p) for p in specials]
    side_width = _fit(
        [(title, FONT_SIZE) for title, _detail in refuse_texts] + [(t, SMALL_SIZE) for t in special_texts],
        SIDE_MIN, SIDE_MAX,
    )
    branch_boxes: list[_Box] = []
    if accept_index is not None:
        for title, detail in refuse_texts:
            lines = _lines(title, side_width, weight="bold", colour=RED)
            lines += _lines(detail, side_width, size=SMALL_SIZE, colour=MUTED)
            branch_boxes.append(_Box(lines, side_width, fill=RED_LIGHT, stroke=RED, dashed=True))
    special_box: _Box | None = None
    if special_texts:
        special_lines: list[_Line] = []
        for text in special_texts:
            special_lines += _lines(text, side_width, size=SMALL_SIZE, colour=AMBER)
        special_box = _Box(special_lines, side_width, fill=AMBER_LIGHT, stroke=AMBER, dashed=True)
        if not review_indexes:
            # No review step: note them beside the first step after acceptance.
            after = [i for i in range(1, len(main) - 1) if i != accept_index]
            review_indexes = after[:1]

    # --- layout ---------------------------------------------------------------------------------
    has_side = bool(branch_boxes or special_box)
    main_x = MARGIN
    side_x = main_x + main_width + SIDE_GAP
    width = side_x + side_width + MARGIN if has_side else main_x + main_width + MARGIN

    title = _("%(name)s运行流程图") % {"name": name} if name else _("运行流程图")
    title_lines = [
        _Line(part, size=TITLE_SIZE, colour=BLUE, weight="bold")
        for part in wrap(title, width - 2 * MARGIN, TITLE_SIZE)
    ]
    y = MARGIN + len(title_lines) * TITLE_LINE + 8
    side_floor = y  # the side column's next free y
    parts: list[Shape] = []
    for index, box in enumerate(main):
        box.x, box.y = main_x, y
        if index == accept_index and branch_boxes:
            top = max(y, side_floor)
            for branch in branch_boxes:
                branch.x, branch.y = side_x, top
                top += branch.height + 12
            side_floor = top
        if special_box is not None and review_indexes and index == review_indexes[0]:
            special_box.x = side_x
            special_box.y = max(y + box.height / 2 - special_box.height / 2, side_floor)
            side_floor = special_box.y + special_box.height + 12
        y += box.height + GAP
    height = max(y - GAP, side_floor - 12) + MARGIN

    # arrows between main boxes
    for upper, lower in pairwise(main):
        parts += _arrow(upper.cx, upper.y + upper.height, lower.cx, lower.y)
    # acceptance branch: out of the acceptance box's right edge, one elbow per branch box
    if accept_index is not None and branch_boxes:
        accept = main[accept_index]
        start_x = accept.x + accept.width
        trunk_x = start_x + SIDE_GAP / 2
        out_y = accept.mid_y
        parts.append(Segment(start_x, out_y, trunk_x, out_y, RED, (5, 4)))
        last_y = max(out_y, branch_boxes[-1].mid_y)
        first_y = min(out_y, branch_boxes[0].mid_y)
        parts.append(Segment(trunk_x, first_y, trunk_x, last_y, RED, (5, 4)))
        for branch in branch_boxes:
            parts += _arrow(trunk_x, branch.mid_y, branch.x, branch.mid_y, colour=RED, dashed=True)
    # special procedures: a dashed connector from each review step it belongs to
    if special_box is not None:
        for index in review_indexes:
            box = main[index]
            target_y = min(max(box.mid_y, special_box.y + 8), special_box.y + special_box.height - 8)
            parts.append(Segment(box.x + box.width, box.mid_y, special_box.x, target_y, AMBER, (3, 3)))

    for box in main:
        parts += _box_shapes(box)
    for box in branch_boxes:
        parts += _box_shapes(box)
    if special_box is not None:
        parts += _box_shapes(special_box)

    background = Rect(0, 0, width, height, WHITE)
    heading = [
        _label(MARGIN, MARGIN + TITLE_LINE * (row + 0.78), line, anchor="start") for row, line in enumerate(title_lines)
    ]
    return Scene(width, height, title, (background, *heading, *parts))


# --- SVG ----------------------------------------------------------------------------------------


def _dash(dash: tuple[float, ...]) -> str:
    return f' stroke-dasharray="{" ".join(_num(d) for d in dash)}"' if dash else ""


def _svg_shape(shape: Shape) -> str:
    if isinstance(shape, Rect):
        stroke = f' stroke="{shape.stroke}" stroke-width="1.5"' if shape.stroke else ""
        radius = f' rx="{_num(shape.radius)}"' if shape.radius else ""
        return (
            f'<rect x="{_num(shape.x)}" y="{_num(shape.y)}" width="{_num(shape.width)}" '
            f'height="{_num(shape.height)}"{radius} fill="{shape.fill}"{stroke}{_dash(shape.dash)}/>'
        )
    if isinstance(shape, Segment):
        return (
            f'<line x1="{_num(shape.x1)}" y1="{_num(shape.y1)}" x2="{_num(shape.x2)}" y2="{_num(shape.y2)}" '
            f'stroke="{shape.colour}" stroke-width="1.5"{_dash(shape.dash)}/>'
        )
    if isinstance(shape, Polygon):
        points = " ".join(f"{_num(x)},{_num(y)}" for x, y in shape.points)
        return f'<polygon points="{points}" fill="{shape.fill}"/>'
    weight = ' font-weight="bold"' if shape.bold else ""
    return (
        f'<text x="{_num(shape.x)}" y="{_num(shape.y)}" font-size="{shape.size}" fill="{shape.colour}" '
        f'text-anchor="{shape.anchor}"{weight}>{escape(shape.text)}</text>'
    )


def render_svg(scene: Scene) -> str:
    width, height = _num(scene.width), _num(scene.height)
    opening = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(scene.title)} '
        f"font-family={quoteattr(FONT_FAMILY)}>"
    )
    body = [_svg_shape(shape) for shape in scene.shapes]
    return "\n".join([opening, f"<title>{escape(scene.title)}</title>", *body, "</svg>"]) + "\n"


def flowchart_svg(content: dict[str, Any]) -> str:
    """The SVG document of the process in `content` (an item version's content)."""
    return render_svg(flowchart_scene(content))
