from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    CITIZEN = "citizen", _("自然人")
    ENTERPRISE = "enterprise", _("法人")
    STAFF = "staff", _("工作人员")


class IdType(models.TextChoices):
    """Identity document types, codes from GA/T 2000.156 (证件类型代码)."""

    RESIDENT_ID = "111", _("居民身份证")
    TEMPORARY_ID = "112", _("临时居民身份证")
    HOUSEHOLD_REGISTER = "113", _("户口簿")
    MILITARY_OFFICER = "114", _("中国人民解放军军官证")
    PASSPORT = "414", _("普通护照")
    TAIWAN_PERMIT = "511", _("台湾居民来往大陆通行证")
    HK_MACAO_PERMIT = "516", _("港澳居民来往内地通行证")
    FOREIGN_PERMANENT_RESIDENT = "553", _("外国人永久居留身份证")


# These documents carry the GB 11643 citizen identity number itself.
RESIDENT_ID_TYPES = frozenset({IdType.RESIDENT_ID, IdType.TEMPORARY_ID, IdType.HOUSEHOLD_REGISTER})


class Gender(models.TextChoices):
    """GB/T 2261.1 sex codes."""

    UNKNOWN = "0", _("未知的性别")
    MALE = "1", _("男性")
    FEMALE = "2", _("女性")
    UNSTATED = "9", _("未说明的性别")


class RealNameMethod(models.TextChoices):
    WINDOW = "window", _("窗口核验证件")
    POLICE_DB = "police_db", _("公安人口信息比对")
    FACE = "face", _("人脸识别比对")
    CTID = "ctid", _("网络身份认证凭证")


class EnterpriseVerifyMethod(models.TextChoices):
    WINDOW = "window", _("窗口核验营业执照")
    E_LICENCE = "e_licence", _("电子营业执照")
    MARKET_REGISTRY = "market_registry", _("市场主体登记信息比对")


class HandlerRole(models.TextChoices):
    LEGAL_REP = "legal_rep", _("法定代表人")
    HANDLER = "handler", _("经办人")


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", _("窗口受理员")
    REVIEWER = "reviewer", _("审核员")
    APPROVER = "approver", _("首席代表（审批人）")
    DEPARTMENT_ADMIN = "department_admin", _("部门管理员")
    SUPERVISOR = "supervisor", _("监察员")
    LEGAL_REVIEWER = "legal_reviewer", _("法制审核员")
    VILLAGE_AGENT = "village_agent", _("代办员")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")


class RoleScope(models.TextChoices):
    DEPARTMENT = "department", _("部门")
    REGION = "region", _("行政区划")
    PLATFORM = "platform", _("全平台")


ROLE_SCOPES: dict[str, str] = {
    Role.WINDOW_CLERK: RoleScope.DEPARTMENT,
    Role.REVIEWER: RoleScope.DEPARTMENT,
    Role.APPROVER: RoleScope.DEPARTMENT,
    Role.DEPARTMENT_ADMIN: RoleScope.DEPARTMENT,
    Role.LEGAL_REVIEWER: RoleScope.DEPARTMENT,
    Role.VILLAGE_AGENT: RoleScope.DEPARTMENT,
    Role.SUPERVISOR: RoleScope.REGION,
    Role.PLATFORM_ADMIN: RoleScope.PLATFORM,
}
