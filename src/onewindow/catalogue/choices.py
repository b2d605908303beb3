"""Code sets of the service-item catalogue: GB/T 39046-2020 Annex A where the standard has one,
our own codes (documented here) where it does not."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemType(models.TextChoices):
    """A.1 事项类型."""

    LICENSING = "01", _("行政许可")
    PENALTY = "02", _("行政处罚")
    COERCION = "03", _("行政强制")
    LEVY = "04", _("行政征收")
    PAYMENT = "05", _("行政给付")
    INSPECTION = "06", _("行政检查")
    CONFIRMATION = "07", _("行政确认")
    REWARD = "08", _("行政奖励")
    ADJUDICATION = "09", _("行政裁决")
    OTHER_POWER = "10", _("其他行政权力")
    PUBLIC_SERVICE = "20", _("公共服务")


# Two-letter type prefixes of the 10-character basic code (DB52/T 1264-2018: XK = 行政许可 …).
BASIC_CODE_PREFIXES = {
    ItemType.LICENSING: "XK",
    ItemType.PENALTY: "CF",
    ItemType.COERCION: "QZ",
    ItemType.LEVY: "ZS",
    ItemType.PAYMENT: "JF",
    ItemType.INSPECTION: "JC",
    ItemType.CONFIRMATION: "QR",
    ItemType.REWARD: "JL",
    ItemType.ADJUDICATION: "CJ",
    ItemType.OTHER_POWER: "QT",
    ItemType.PUBLIC_SERVICE: "GG",
}


class ExerciseLevel(models.TextChoices):
    """A.2 行使层级."""

    NATIONAL = "1", _("国家级")
    PROVINCE = "2", _("省级")
    CITY = "3", _("市级")
    COUNTY = "4", _("县级")
    TOWN = "5", _("镇（乡、街道）级")
    VILLAGE = "6", _("村（社区）级")
    GRADED = "7", _("分级管理")


class ImplementingNature(models.TextChoices):
    """A.3 实施主体性质."""

    STATUTORY = "1", _("法定机关")
    AUTHORISED = "2", _("授权组织")
    ENTRUSTED = "3", _("受委托组织")
    OTHER = "9", _("其他")


class ServiceObject(models.TextChoices):
    """A.4 服务对象."""

    PERSON = "1", _("自然人")
    ENTERPRISE = "2", _("企业法人")
    INSTITUTION = "3", _("事业法人")
    SOCIAL_ORGANISATION = "4", _("社会组织法人")
    AGENCY = "5", _("行政机关")
    OTHER = "6", _("其他组织")


class HandlingForm(models.TextChoices):
    """A.5 办理形式."""

    WINDOW = "1", _("窗口办理")
    ONLINE_PC = "2", _("电脑端网上办理")
    ONLINE_MOBILE = "3", _("移动端网上申请")
    EXPRESS = "4", _("快递申请")
    OTHER = "9", _("其他")


class CaseType(models.TextChoices):
    """A.6 办件类型."""

    IMMEDIATE = "1", _("即办件")
    PROMISED = "2", _("承诺件")
    OTHER = "9", _("其他")


class SpecialProcedureKind(models.TextChoices):
    """A.7 特别程序种类."""

    EXTENSION = "1", _("延长审批")
    OTHER = "2", _("除延长审批之外的情况")


class TimeUnit(models.TextChoices):
    WORKING_DAY = "working_day", _("工作日")
    NATURAL_DAY = "natural_day", _("自然日")


class OnlineDepth(models.IntegerChoices):
    """网上办理深度 (the four stars used by provincial platforms)."""

    INFORMATION = 1, _("一级：网上发布办事信息")
    DOWNLOAD = 2, _("二级：网上下载表格、在线咨询")
    PRE_REVIEW = 3, _("三级：网上申报、预审")
    FULL = 4, _("四级：全程网上办理")


class Visits(models.IntegerChoices):
    """到办事现场次数: "run at most once" means ≤ 1."""

    ZERO = 0, _("零跑动")
    ONE = 1, _("最多跑一次")
    TWO = 2, _("跑两次")


class ItemList(models.TextChoices):
    """The six lists (六张清单) an item can be tagged with."""

    POWER = "power", _("权力清单")
    RESPONSIBILITY = "responsibility", _("责任清单")
    INVESTMENT_NEGATIVE = "investment_negative", _("投资负面清单")
    FISCAL_FUNDS = "fiscal_funds", _("财政专项资金清单")
    INTERMEDIARY = "intermediary", _("中介服务清单")
    PUBLIC_SERVICE = "public_service", _("公共服务事项清单")


class Audience(models.TextChoices):
    PERSON = "person", _("个人办事")
    ENTERPRISE = "enterprise", _("法人办事")


class ResultType(models.TextChoices):
    LICENCE = "licence", _("证照")
    APPROVAL_DOCUMENT = "approval_document", _("批文")
    OTHER = "other", _("其他")


class DeliveryMethod(models.TextChoices):
    WINDOW = "window", _("窗口领取")
    POST = "post", _("快递送达")
    ELECTRONIC = "electronic", _("电子送达")


class GeneralScope(models.TextChoices):
    """通办范围."""

    NONE = "", _("不通办")
    NATIONAL = "national", _("全国通办")
    CROSS_PROVINCE = "cross_province", _("跨省通办")
    CROSS_CITY = "cross_city", _("跨市通办")
    CROSS_COUNTY = "cross_county", _("跨县通办")


class MaterialFormat(models.TextChoices):
    PAPER = "paper", _("纸质")
    ELECTRONIC = "electronic", _("电子")
    BOTH = "both", _("纸质或电子")


class MaterialSource(models.TextChoices):
    APPLICANT = "applicant", _("申请人自备")
    GOVERNMENT = "government", _("政府部门核发")
    INTERMEDIARY = "intermediary", _("中介机构出具")
    OTHER = "other", _("其他")


class StepKind(models.TextChoices):
    ACCEPT = "accept", _("受理")
    REVIEW = "review", _("审查")
    DECIDE = "decide", _("决定")
    OTHER = "other", _("其他")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("法制审核中")
    APPROVED = "approved", _("审核通过")
    SCHEDULED = "scheduled", _("待批次发布")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被替代")
    DISCARDED = "discarded", _("已废弃")


# A version in one of these states is still being worked on; an item has at most one.
OPEN_VERSION_STATUSES = (
    VersionStatus.DRAFT,
    VersionStatus.IN_REVIEW,
    VersionStatus.APPROVED,
    VersionStatus.SCHEDULED,
)


class BatchKind(models.TextChoices):
    REGULAR = "regular", _("集中发布（6月、12月）")
    URGENT = "urgent", _("紧急发布")


class BatchStatus(models.TextChoices):
    OPEN = "open", _("待发布")
    PUBLISHED = "published", _("已发布")


class CompositeStatus(models.TextChoices):
    """A composite service ("one thing", 一件事) is edited as a draft, then offered to applicants."""

    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    WITHDRAWN = "withdrawn", _("已停用")


class MemberDenialRule(models.TextChoices):
    """What a denied member item means for the joint case."""

    DENY_ALL = "deny_all", _("任一事项不予许可，联办件整体不予许可")
    PARTIAL = "partial", _("其余事项照常办结并发放结果")
