"""Code sets of the evaluation of services (好差评): GB/T 39046-2020 §6.6 and Annex A.8."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    """满意度代码 (GB/T 39046 A.8)."""

    VERY_SATISFIED = 1, _("非常满意")
    SATISFIED = 2, _("满意")
    BASIC = 3, _("基本满意")
    DISSATISFIED = 4, _("不满意")
    VERY_DISSATISFIED = 5, _("非常不满意")


# 差评: each opens a rectification item.
BAD_LEVELS = frozenset({Level.DISSATISFIED, Level.VERY_DISSATISFIED})
# Counted as satisfied in the published satisfaction rate.
SATISFIED_LEVELS = frozenset({Level.VERY_SATISFIED, Level.SATISFIED, Level.BASIC})


class Subject(models.TextChoices):
    """What is rated: 网上服务一事一评 (a case) or 现场服务一次一评 (a visit to a window)."""

    CASE = "case", _("办件")
    VISIT = "visit", _("现场服务")


class EvaluationChannel(models.TextChoices):
    """评价渠道 (GB/T 39046 §6.6)."""

    PC = "pc", _("PC端")
    MOBILE = "mobile", _("移动服务端")
    QR_CODE = "qr", _("二维码")
    TABLET = "tablet", _("政务大厅平板电脑")
    OTHER_TERMINAL = "terminal", _("其他终端")
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")


# The indicators besides the overall level (整体满意度), by what is rated.
ONLINE_INDICATORS = {
    "efficiency": _("办事效率"),
    "guide_accuracy": _("办事指南精确度"),
    "convenience": _("办事便捷度"),
    "platform": _("平台操作性"),
}
OFFLINE_INDICATORS = {
    "efficiency": _("服务效率"),
    "service_level": _("服务水平"),
    "attitude": _("服务态度"),
}


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("待回访")
    CALLED_BACK = "called_back", _("待整改")
    APPEALED = "appealed", _("申诉复核中")
    CLOSED = "closed", _("已整改")
    VOIDED = "voided", _("申诉成立")


# Items still waiting for the department: what its queue and the overdue check look at.
PENDING_RECTIFICATION = (RectificationStatus.OPEN, RectificationStatus.CALLED_BACK)


class RectificationOutcome(models.TextChoices):
    FIXED = "fixed", _("已整改到位")
    EXPLAINED = "explained", _("无法律政策依据，已解释说明")


class AppealKind(models.TextChoices):
    MISTAKEN = "mistaken", _("误评")
    MALICIOUS = "malicious", _("恶意差评")


class FigureGrouping(models.TextChoices):
    STAFF = "staff", _("工作人员")
    WINDOW = "window", _("窗口")
    DEPARTMENT = "department", _("部门")
    ITEM = "item", _("事项")
