"""Code sets of electronic supervision (电子监察, GB/T 39046 §6.8)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Colour(models.TextChoices):
    """The signal of a case or a step: green, yellow near its deadline, red once overdue."""

    GREEN = "green", _("正常")
    YELLOW = "yellow", _("黄牌预警")
    RED = "red", _("红牌警告")


# The red list first: the order the board and the lists sort colours in.
COLOUR_RANK = {Colour.RED: 0, Colour.YELLOW: 1, Colour.GREEN: 2}


class SignalKind(models.TextChoices):
    CASE = "case", _("办件")
    STEP = "step", _("环节")
    JOINT = "joint", _("联办件")


class WarningType(models.TextChoices):
    """监察预警类型代码 (n1)."""

    RECOVERED = "0", _("恢复正常")
    YELLOW = "1", _("黄牌预警")
    RED = "2", _("红牌警告")
    ANOMALY = "3", _("异常行为")
    ESCALATION = "4", _("升级督办")


class RuleKind(models.TextChoices):
    WARNING = "warning", _("时限预警")
    ANOMALY = "anomaly", _("异常行为")


class RuleCode(models.TextChoices):
    """监察规则编号: the rules the platform knows. Each is a row of `SupervisionRule`, where it
    is switched on or off and its parameters are set."""

    CASE_YELLOW = "W01", _("办件临近承诺时限")
    CASE_RED = "W02", _("办件超过承诺时限")
    STEP_YELLOW = "W03", _("环节临近时限")
    STEP_RED = "W04", _("环节超过时限")
    ESCALATION = "W05", _("红牌办件升级督办")
    REFUSAL_WITHOUT_REASONS = "A01", _("不予受理或不予许可未说明理由")
    REPEATED_SUPPLEMENT = "A02", _("同一申请多次要求补正")
    SAME_HANDLER = "A03", _("受理与决定为同一人")
    LATE_DECISION = "A04", _("超过承诺时限作出决定")
    RESULT_WITHOUT_CASE = "A05", _("无办件出具结果（体外循环）")
    FAST_STEP = "A06", _("环节办理用时异常短")
    FEE_NOT_IN_GUIDE = "A07", _("收取办事指南以外的费用")
    REPEATED_WITHDRAWALS = "A08", _("多次撤回后重新申报")


class ItemStatus(models.TextChoices):
    """A supervision item (督办事项): opened by a rule or a supervisor, noticed to the department,
    closed once rectified."""

    OPEN = "open", _("待处理")
    NOTICED = "noticed", _("已督办")
    CLOSED = "closed", _("已办结")


class NoticeStatus(models.TextChoices):
    ISSUED = "issued", _("待答复")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")
    ESCALATED = "escalated", _("已升级")


class DenialOutcome(models.TextChoices):
    UPHELD = "upheld", _("理由与依据充分")
    QUESTIONED = "questioned", _("存疑，转督办")


class SpotCheckStatus(models.TextChoices):
    OPEN = "open", _("抽查中")
    FINISHED = "finished", _("已完成")


class SampleResult(models.TextChoices):
    PENDING = "pending", _("待检查")
    PASSED = "passed", _("合格")
    FAILED = "failed", _("发现问题")


class Grade(models.TextChoices):
    """Annual assessment grades (年度考核等次); the excellent grade is capped at a share of staff."""

    EXCELLENT = "excellent", _("优秀")
    COMPETENT = "competent", _("称职")
    BASIC = "basic", _("基本称职")
    INCOMPETENT = "incompetent", _("不称职")


# A yellow signal by default: one working day left, or 20 % of the limit, whichever is more.
DEFAULT_NEAR_DAYS = 1
DEFAULT_NEAR_PERCENT = 20
# The documents cap the excellent grade at 20 % of the staff assessed.
EXCELLENT_SHARE = 0.2
