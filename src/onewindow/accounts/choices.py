from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountKind(models.TextChoices):
    CITIZEN = "citizen", _("自然人")
    ENTERPRISE = "enterprise", _("法人")
    STAFF = "staff", _("工作人员")


class Role(models.TextChoices):
    WINDOW_CLERK = "window_clerk", _("窗口受理员")
    REVIEWER = "reviewer", _("审核员")
    APPROVER = "approver", _("首席代表（审批人）")
    DEPARTMENT_ADMIN = "department_admin", _("部门管理员")
    SUPERVISOR = "supervisor", _("监察员")
    LEGAL_REVIEWER = "legal_reviewer", _("法制审核员")
    VILLAGE_AGENT = "village_agent", _("代办员")
    PLATFORM_ADMIN = "platform_admin", _("平台管理员")
