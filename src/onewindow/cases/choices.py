"""Code sets of case handling (办件)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待受理")
    SUPPLEMENT = "supplement", _("待补正")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    IN_REVIEW = "in_review", _("审查中")
    SPECIAL = "special", _("特别程序中")
    DECIDED = "decided", _("已决定")
    COMPLETED = "completed", _("已办结")
    DELIVERED = "delivered", _("已送达")
    ARCHIVED = "archived", _("已归档")
    WITHDRAWN = "withdrawn", _("已撤回")
    TERMINATED = "terminated", _("已终止")


# Filed and waiting for, or in, handling: what the workbench and the warnings look at.
OPEN_STATUSES = (
    CaseStatus.SUBMITTED, CaseStatus.SUPPLEMENT, CaseStatus.IN_REVIEW, CaseStatus.SPECIAL, CaseStatus.DECIDED,
)
# The clock runs (or is paused) between acceptance and decision.
CLOCK_STATUSES = (CaseStatus.IN_REVIEW, CaseStatus.SPECIAL)


class Channel(models.TextChoices):
    """申报来源."""

    ONLINE = "online", _("网上申报")
    WINDOW = "window", _("窗口受理")
    AGENT = "agent", _("代办员代办")
    API = "api", _("第三方接口")


class Decision(models.TextChoices):
    APPROVED = "approved", _("准予许可")
    DENIED = "denied", _("不予许可")


class StepStatus(models.TextChoices):
    """GB/T 39046 §6.4 环节办理状态, with the pool state before anyone claims the step."""

    WAITING = "waiting", _("待认领")
    CLAIMED = "claimed", _("办理中")
    DONE = "done", _("已办")


class StepOutcome(models.TextChoices):
    """GB/T 39046 §6.4 业务动作."""

    PASS = "pass", _("通过")
    RETURN = "return", _("退回")
    OTHER = "other", _("其他")


class DocumentKind(models.TextChoices):
    RECEIPT = "receipt", _("收件回执")
    ACCEPTANCE = "acceptance", _("受理通知书")
    REFUSAL = "refusal", _("不予受理决定书")
    SUPPLEMENT = "supplement", _("补正告知书")
    DEFERRAL = "deferral", _("容缺受理通知书")
    APPROVAL = "approval", _("准予许可决定书")
    DENIAL = "denial", _("不予许可决定书")
    TERMINATION = "termination", _("终止办理通知书")


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    POST = "post", _("快递送达")
    ELECTRONIC = "electronic", _("电子送达")


class Urgency(models.TextChoices):
    """How near a deadline is: the workbench colours and the supervision signals."""

    NORMAL = "normal", _("正常")
    NEAR = "near", _("临近期限")
    OVERDUE = "overdue", _("已超期")
    PAUSED = "paused", _("计时暂停")


# Licensing Law art. 32(4): incomplete materials are notified within 5 days, all at once;
# otherwise the application counts as accepted from receipt.
ACCEPTANCE_DAYS = 5
# A deadline this many working days away or closer is "near" (yellow).
NEAR_DAYS = 1
# Applicants are reminded this many working days before a 容缺 supply deadline.
DEFERRAL_WARNING_DAYS = 2


class JointStatus(models.TextChoices):
    """A joint case (一件事联办件) over the member cases it was split into at acceptance."""

    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待受理")
    IN_PROGRESS = "in_progress", _("并联办理中")
    COMPLETED = "completed", _("已办结")
    PARTIAL = "partial", _("部分办结")
    DENIED = "denied", _("不予许可")
    DELIVERED = "delivered", _("已送达")
    WITHDRAWN = "withdrawn", _("已撤回")
