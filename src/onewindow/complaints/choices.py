"""Code sets of consultations and complaints (办事互动, GB/T 39046-2020 §6.7; 12345 hotline)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CONSULTATION = "consultation", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")
    REQUEST = "request", _("求助")


class Source(models.TextChoices):
    """来源: where the request came in."""

    PORTAL = "portal", _("网上平台")
    HOTLINE = "hotline", _("12345热线")
    MAILBOX = "mailbox", _("网上信箱")
    OPEN311 = "open311", _("开放接口")


class Status(models.TextChoices):
    RECEIVED = "received", _("待分派")
    ASSIGNED = "assigned", _("办理中")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")


# Open311 knows two statuses; everything not closed is open.
OPEN311_CLOSED = frozenset({Status.CLOSED})


class Rating(models.IntegerChoices):
    VERY_SATISFIED = 1, _("非常满意")
    SATISFIED = 2, _("满意")
    BASIC = 3, _("基本满意")
    DISSATISFIED = 4, _("不满意")
    VERY_DISSATISFIED = 5, _("非常不满意")


UNSATISFIED_RATINGS = frozenset({Rating.DISSATISFIED, Rating.VERY_DISSATISFIED})


class UpdateKind(models.TextChoices):
    """What an entry of a request's history records (Open311 `notes[].type`)."""

    RECEIVED = "received", _("受理登记")
    DISPATCHED = "dispatched", _("分派")
    TRANSFERRED = "transferred", _("转办")
    EXTENDED = "extended", _("延期")
    ANSWERED = "answered", _("答复")
    RATED = "rated", _("评价")
    REOPENED = "reopened", _("重新办理")
    CLOSED = "closed", _("办结")
