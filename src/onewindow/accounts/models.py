import re
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import CooldownMixin, SideChannelDevice, ThrottlingMixin

from onewindow.accounts.choices import (
    ROLE_SCOPES,
    RESIDENT_ID_TYPES,
    AccountKind,
    EnterpriseVerifyMethod,
    Gender,
    HandlerRole,
    IdType,
    RealNameMethod,
    Role,
    RoleScope,
)
from onewindow.core.identifiers import parse_id_number, validate_uscc_field
from onewindow.core.models import Department, Region, TimeStampedModel

OTHER_DOCUMENT_RE = re.compile(r"^[A-Z0-9]{5,20}$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalise_id_number(id_type: str, value: str) -> str:
    """Return the document number in canonical form, or raise ValidationError."""
    if id_type not in IdType.values:
        raise ValidationError(_("证件类型无效。"), code="id_type")
    if id_type in RESIDENT_ID_TYPES:
        return parse_id_number(value).number
    number = (value or "").strip().upper()
    if not OTHER_DOCUMENT_RE.fullmatch(number):
        raise ValidationError(_("证件号码应为5至20位字母或数字。"), code="id_number")
    return number


def gender_from_id_number(id_type: str, number: str) -> str:
    """The 17th digit of a GB 11643 number is odd for men and even for women."""
    if id_type in RESIDENT_ID_TYPES and len(number) == 18 and number[16].isdigit():
        return Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return Gender.UNSTATED


def mask(value: str, *, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


class User(AbstractUser):
    """One account across all modules (一号通): citizen, enterprise handler or staff.

    Fields follow GB/T 39046-2020 6.9 统一身份认证.
    """

    kind = models.CharField(_("账户类型"), max_length=16, choices=AccountKind.choices, default=AccountKind.CITIZEN)
    real_name = models.CharField(_("真实姓名"), max_length=50, blank=True)
    id_type = models.CharField(_("证件类型"), max_length=3, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number = models.CharField(_("证件号码"), max_length=20, blank=True)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN)
    ethnicity = models.CharField(_("民族代码"), max_length=2, blank=True)
    phone = models.CharField(_("手机号码"), max_length=11, blank=True)
    employer = models.CharField(_("工作单位"), max_length=200, blank=True)
    position = models.CharField(_("职务"), max_length=100, blank=True)
    real_name_verified = models.BooleanField(_("已实名认证"), default=False)
    real_name_verified_at = models.DateTimeField(_("实名认证时间"), null=True, blank=True)
    real_name_method = models.CharField(_("实名认证方式"), max_length=16, choices=RealNameMethod.choices, blank=True)
    deactivated_at = models.DateTimeField(_("注销时间"), null=True, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(fields=["id_number"], condition=~Q(id_number=""), name="accounts_user_id_number_uniq"),
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="accounts_user_phone_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.real_name}（{self.username}）" if self.real_name else self.username

    def clean(self) -> None:
        super().clean()
        if self.id_number:
            try:
                self.id_number = normalise_id_number(self.id_type, self.id_number)
            except ValidationError as exc:
                raise ValidationError({"id_number": exc.messages}) from exc
            self.gender = gender_from_id_number(self.id_type, self.id_number)
        if self.phone and not PHONE_RE.fullmatch(self.phone):
            raise ValidationError({"phone": _("手机号码应为11位中国大陆手机号。")})

    @property
    def id_number_masked(self) -> str:
        return mask(self.id_number, keep_start=4, keep_end=4)

    @property
    def phone_masked(self) -> str:
        return mask(self.phone, keep_start=3, keep_end=4)


class Enterprise(TimeStampedModel):
    """A legal person (法人) registered on the platform (GB/T 39046 6.9, organisations)."""

    name = models.CharField(_("机构名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True, validators=[validate_uscc_field])
    legal_rep_name = models.CharField(_("法定代表人"), max_length=50)
    legal_rep_id_type = models.CharField(
        _("法定代表人证件类型"), max_length=3, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    legal_rep_id_number = models.CharField(_("法定代表人证件号码"), max_length=20)
    registered_address = models.CharField(_("注册地址"), max_length=300)
    registered_on = models.DateField(_("注册日期"), null=True, blank=True)
    business_scope = models.TextField(_("经营范围"), blank=True)
    verified = models.BooleanField(_("已实名认证"), default=False)
    verified_at = models.DateTimeField(_("认证时间"), null=True, blank=True)
    verify_method = models.CharField(_("认证方式"), max_length=16, choices=EnterpriseVerifyMethod.choices, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("法人")
        verbose_name_plural = _("法人")

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class ActiveQuerySet(models.QuerySet):
    """Rows that are not revoked and inside their validity window at `at` (default now; a model
    whose window is whole days also takes a day)."""

    def active(self, at: datetime | date | None = None) -> "ActiveQuerySet":
        return self.filter(self.model.in_force_q(at or timezone.now()))


class Revocable(TimeStampedModel):
    """A grant that ends by revocation (who and when) or at the end of its validity window."""

    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ActiveQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def in_force_q(cls, at: datetime | date, prefix: str = "") -> Q:
        """Not revoked and inside the validity window at `at`. `prefix` ("user__role_assignments__")
        names the way from another model, for a join's condition (FilteredRelation)."""
        return _prefixed(Q(revoked_at__isnull=True) & cls.validity_q(at), prefix)


def _prefixed(condition: Q, prefix: str) -> Q:
    children = [_prefixed(child, prefix) if isinstance(child, Q) else (f"{prefix}{child[0]}", child[1])
                for child in condition.children]
    return Q.create(children, connector=condition.connector, negated=condition.negated)


class EnterpriseHandler(Revocable):
    """A person authorised to act for an enterprise: its legal representative or a handler (经办人)."""

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("法人"), on_delete=models.PROTECT, related_name="handlers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="enterprise_links"
    )
    role = models.CharField(_("身份"), max_length=16, choices=HandlerRole.choices, default=HandlerRole.HANDLER)
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("授权人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    valid_until = models.DateField(_("授权截止日期"), null=True, blank=True)

    class Meta:
        ordering = ["enterprise", "role", "id"]
        verbose_name = _("法人经办授权")
        verbose_name_plural = _("法人经办授权")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "user"], condition=Q(revoked_at__isnull=True), name="accounts_handler_active_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} · {self.user} · {self.get_role_display()}"

    @staticmethod
    def validity_q(at: datetime) -> Q:
        return Q(valid_until__isnull=True) | Q(valid_until__gte=timezone.localdate(at))


class StaffProfile(TimeStampedModel):
    """Where a staff member works: department, hall and window."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="staff_profile"
    )
    department = models.ForeignKey(Department, verbose_name=_("所属部门"), on_delete=models.PROTECT, related_name="staff")
    hall = models.CharField(_("办事大厅"), max_length=100, blank=True)
    window_number = models.CharField(_("窗口号"), max_length=20, blank=True)
    employee_number = models.CharField(_("工号"), max_length=30, blank=True)

    class Meta:
        ordering = ["department", "employee_number"]
        verbose_name = _("工作人员档案")
        verbose_name_plural = _("工作人员档案")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "employee_number"], condition=~Q(employee_number=""),
                name="accounts_staff_employee_number_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.department}"


def _scope_q(scope: str) -> Q:
    roles = [role for role, role_scope in ROLE_SCOPES.items() if role_scope == scope]
    has_department = Q(department__isnull=False)
    has_region = Q(region__isnull=False)
    shape = {
        RoleScope.DEPARTMENT: has_department & ~has_region,
        RoleScope.REGION: has_region & ~has_department,
        RoleScope.PLATFORM: ~has_department & ~has_region,
    }[scope]
    return Q(role__in=roles) & shape


class RoleAssignment(Revocable):
    """A role held by a staff member within a department, a region, or the whole platform."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.PROTECT, related_name="role_assignments"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(
        Department, verbose_name=_("部门范围"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("区划范围"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("授予人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    valid_from = models.DateTimeField(_("生效时间"), default=timezone.now)
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)

    class Meta:
        ordering = ["user", "role", "id"]
        verbose_name = _("角色授予")
        verbose_name_plural = _("角色授予")
        indexes = [models.Index(fields=["user", "role"], name="accounts_role_user_role_idx")]
        constraints = [
            # Each role carries exactly the scope its kind needs (see choices.ROLE_SCOPES).
            models.CheckConstraint(
                condition=_scope_q(RoleScope.DEPARTMENT) | _scope_q(RoleScope.REGION) | _scope_q(RoleScope.PLATFORM),
                name="accounts_role_scope_shape",
            ),
        ]

    def __str__(self) -> str:
        scope = self.department or self.region or _("全平台")
        return f"{self.user} · {self.get_role_display()} · {scope}"

    @staticmethod
    def validity_q(at: datetime) -> Q:
        return Q(valid_from__lte=at) & (Q(valid_until__isnull=True) | Q(valid_until__gt=at))


class ChiefRepresentativeAuthorisation(Revocable):
    """A written authorisation (授权书) letting a chief representative (首席代表) decide items
    of a department at the one-stop window."""

    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("首席代表"), on_delete=models.PROTECT,
        related_name="chief_authorisations",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("授权部门"), on_delete=models.PROTECT, related_name="chief_authorisations"
    )
    scope_text = models.TextField(_("授权范围"))
    all_items = models.BooleanField(_("本部门全部事项"), default=False)
    item_codes = models.JSONField(_("授权事项编码"), default=list, blank=True)
    document_number = models.CharField(_("授权文号"), max_length=100)
    document_reference = models.CharField(_("档案编号"), max_length=200, blank=True)
    signatory = models.CharField(_("签发人"), max_length=50)
    signed_on = models.DateField(_("签发日期"))
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("截止日期"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    revoke_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["department", "-valid_from", "id"]
        verbose_name = _("首席代表授权")
        verbose_name_plural = _("首席代表授权")
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")), name="accounts_chief_period"),
        ]

    def __str__(self) -> str:
        return f"{self.document_number} · {self.representative} · {self.department}"

    @staticmethod
    def validity_q(at: datetime | date) -> Q:
        """Valid on the day of `at` (a moment, or the day itself: the window is whole days)."""
        day = timezone.localdate(at) if isinstance(at, datetime) else at
        return Q(valid_from__lte=day, valid_until__gte=day)

    def covers(self, item_code: str | None) -> bool:
        return self.all_items or item_code is None or item_code in self.item_codes


class ApiToken(models.Model):
    """A bearer token for the API. Only the SHA-256 of the secret is stored; the secret is
    shown once at creation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=16)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    def is_usable(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.expires_at > at


class UserSession(models.Model):
    """A logged-in session, so sessions can be ended server-side (password change,
    deactivation, administrator)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="sessions"
    )
    session_key = models.CharField(_("会话标识"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("登录时间"), default=timezone.now)
    ip = models.GenericIPAddressField(_("登录IP"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")

    def __str__(self) -> str:
        return f"{self.user} · {self.created_at:%Y-%m-%d %H:%M}"


CODE_LENGTH = 6
CODE_VALID_SECONDS = 10 * 60
CODE_RESEND_SECONDS = 60
CODE_MAX_PER_HOUR = 5
CODE_MAX_FAILURES = 5


class NotificationCodeDevice(ThrottlingMixin, CooldownMixin, SideChannelDevice):
    """Second factor: a 6-digit one-time code sent by SMS, valid 10 minutes, single use."""

    hour_started_at = models.DateTimeField(null=True, blank=True)
    sent_this_hour = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("短信验证码设备")
        verbose_name_plural = _("短信验证码设备")

    def get_cooldown_duration(self) -> int:
        return CODE_RESEND_SECONDS

    def get_throttle_factor(self) -> int:
        return 1

    def generate_is_allowed(self) -> tuple[bool, dict | None]:
        now = timezone.now()
        if (
            self.hour_started_at is not None
            and (now - self.hour_started_at).total_seconds() < 3600
            and self.sent_this_hour >= CODE_MAX_PER_HOUR
        ):
            return False, {"next_generation_at": self.hour_started_at + timedelta(hours=1)}
        return super().generate_is_allowed()

    def issue(self) -> str:
        """Store a fresh code and count it against the hourly limit; the caller delivers it."""
        now = timezone.now()
        if self.hour_started_at is None or (now - self.hour_started_at).total_seconds() >= 3600:
            self.hour_started_at, self.sent_this_hour = now, 0
        self.sent_this_hour += 1
        self.generate_token(length=CODE_LENGTH, valid_secs=CODE_VALID_SECONDS, commit=False)
        self.cooldown_set(commit=False)
        self.save()
        return self.token

    def verify_token(self, token: str) -> bool:
        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        verified = super().verify_token(token)
        if verified:
            self.throttle_reset()
        else:
            self.throttle_increment(commit=False)
            # A guessed code dies after a few misses, so the 10-minute window cannot be brute-forced.
            if self.throttling_failure_count >= CODE_MAX_FAILURES:
                self.token = None
            self.save()
        return verified
