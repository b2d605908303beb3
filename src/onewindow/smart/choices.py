"""Code sets of smart approval: rule-set states and the outcomes of a rule set."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被替代")
    DISCARDED = "discarded", _("已废弃")


class Outcome(models.TextChoices):
    """What a rule set says about an application (the values of hooks.AutoDecision.outcome)."""

    APPROVED = "approved", _("自动准予")
    DENIED = "denied", _("自动不予批准")
    MANUAL = "manual", _("转人工审查")


class Verdict(models.TextChoices):
    """What one rule says."""

    PASSED = "passed", _("符合")
    FAILED = "failed", _("不符合")
    UNKNOWN = "unknown", _("无法判断")
