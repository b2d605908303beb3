"""Demo accounts: one per role, three citizens and two enterprises with their handlers.

`load` is idempotent (accounts are matched by username, enterprises by USCC) and writes one
audit entry per run that changed anything. It expects the demo regions and departments to be
loaded first (`onewindow.core.demo_regions`); accounts whose department or region is missing
are skipped. Everything here is public demo data: the password and the authenticator secret
are published on purpose and must never be used outside a demo.
"""

from base64 import b32decode
from datetime import date
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts.choices import AccountKind, HandlerRole, IdType, RealNameMethod, Role
from onewindow.accounts.models import (
    ChiefRepresentativeAuthorisation,
    Enterprise,
    EnterpriseHandler,
    RoleAssignment,
    StaffProfile,
    User,
    gender_from_id_number,
)
from onewindow.core import audit
from onewindow.core.identifiers import make_id_number, make_uscc
from onewindow.core.models import Department, Region

DEMO_PASSWORD = "Demo@2026!"
DEMO_TOTP_SECRET = "ONEWINDOWDEMOTOTPSECRETKEYABCDEF"  # base32, as typed into an authenticator app
DEMO_TOTP_KEY_HEX = b32decode(DEMO_TOTP_SECRET).hex()

SERVICE_DEPARTMENT = "遵义市市场监督管理局"
SUPERVISION_DEPARTMENT = "遵义市政务服务管理局"
TOWNSHIP_DEPARTMENT = "遵义市红花岗区政务服务中心"
SUPERVISION_REGION = "520300"
# The demo's one legal reviewer reviews for every department (each has its own in real life).
EVERY_DEPARTMENT_ROLES = frozenset({Role.LEGAL_REVIEWER})
HALL = "遵义市政务服务中心"

# (username, real name, department name, roles, hall window, phone)
_STAFF = [
    ("admin", "平台管理员", SUPERVISION_DEPARTMENT, [Role.PLATFORM_ADMIN], "", "19900000001"),
    ("clerk", "陈晓燕", SERVICE_DEPARTMENT, [Role.WINDOW_CLERK], "A12", "19900000002"),
    ("reviewer", "刘建国", SERVICE_DEPARTMENT, [Role.REVIEWER], "", "19900000003"),
    ("approver", "杨志强", SERVICE_DEPARTMENT, [Role.APPROVER], "A01", "19900000004"),
    ("deptadmin", "周丽", SERVICE_DEPARTMENT, [Role.DEPARTMENT_ADMIN], "", "19900000005"),
    ("supervisor", "吴敏", SUPERVISION_DEPARTMENT, [Role.SUPERVISOR], "", "19900000006"),
    ("legal", "郑海涛", SERVICE_DEPARTMENT, [Role.LEGAL_REVIEWER], "", "19900000007"),
    ("agent", "黄小梅", TOWNSHIP_DEPARTMENT, [Role.VILLAGE_AGENT], "", "19900000008"),
]
# (username, real name, birth date, sequence, phone, kind)
_PEOPLE = [
    ("citizen1", "张伟", date(1985, 3, 12), 111, "19900000101", AccountKind.CITIZEN),
    ("citizen2", "王芳", date(1990, 7, 25), 222, "19900000102", AccountKind.CITIZEN),
    ("citizen3", "李娜", date(1978, 11, 3), 332, "19900000103", AccountKind.CITIZEN),
    ("handler1", "赵磊", date(1992, 5, 18), 451, "19900000111", AccountKind.ENTERPRISE),
    ("handler2", "孙静", date(1995, 9, 9), 562, "19900000112", AccountKind.ENTERPRISE),
]
PEOPLE_REGION = "520302"
# (USCC organisation base, name, legal representative's username, handler's username, address)
_ENTERPRISES = [
    ("QY520301", "遵义黔北茶业有限公司", "citizen1", "handler1", "贵州省遵义市红花岗区中华路街道中华南路88号"),
    ("QY520302", "遵义湘江建材商贸有限公司", "citizen2", "handler2", "贵州省遵义市红花岗区老城街道凤凰路16号"),
]
CHIEF_AUTHORISATION_NUMBER = "遵市监授〔2026〕1号"

# "role" is a Role value for staff (what the browser tests compare), the account kind otherwise;
# "label" is the human name of either.
DEMO_LOGINS: list[dict[str, Any]] = [
    {"username": username, "password": DEMO_PASSWORD, "role": roles[0].value, "label": roles[0].label,
     "kind": AccountKind.STAFF.value, "totp_secret": DEMO_TOTP_SECRET}
    for username, _name, _department, roles, _window, _phone in _STAFF
] + [
    {"username": username, "password": DEMO_PASSWORD, "role": kind.value,
     "label": _("自然人") if kind == AccountKind.CITIZEN else _("法人经办人"), "kind": kind.value, "totp_secret": None}
    for username, _name, _born, _sequence, _phone, kind in _PEOPLE
]


def _upsert_user(username: str, fields: dict[str, Any], changed: list[str]) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, **fields)
        user.set_password(DEMO_PASSWORD)
        user.save()
        changed.append(f"user:{username}")
        return user
    stale = {name: value for name, value in fields.items() if getattr(user, name) != value}
    if stale or not user.check_password(DEMO_PASSWORD):
        for name, value in stale.items():
            setattr(user, name, value)
        user.set_password(DEMO_PASSWORD)
        user.save()
        changed.append(f"user:{username}")
    return user


def _ensure_role(user: User, role: str, *, department: Department | None, region: Region | None,
                 changed: list[str]) -> None:
    held = RoleAssignment.objects.active().filter(user=user, role=role, department=department, region=region)
    if not held.exists():
        RoleAssignment.objects.create(user=user, role=role, department=department, region=region)
        changed.append(f"role:{user.username}:{role}")


def _ensure_totp(user: User, changed: list[str]) -> None:
    device = TOTPDevice.objects.filter(user=user, name="demo").first()
    if device is None or device.key != DEMO_TOTP_KEY_HEX or not device.confirmed:
        TOTPDevice.objects.filter(user=user).exclude(pk=getattr(device, "pk", None)).delete()
        TOTPDevice.objects.update_or_create(user=user, name="demo",
                                            defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True})
        changed.append(f"totp:{user.username}")


def _load_staff(departments: dict[str, Department], region: Region | None, changed: list[str]) -> list[str]:
    loaded = []
    for username, real_name, department_name, roles, window, phone in _STAFF:
        department = departments.get(department_name)
        if department is None or (Role.SUPERVISOR in roles and region is None):
            continue
        user = _upsert_user(username, {
            "kind": AccountKind.STAFF, "real_name": real_name, "phone": phone, "employer": department.name,
            "is_active": True, "is_staff": Role.PLATFORM_ADMIN in roles, "is_superuser": Role.PLATFORM_ADMIN in roles,
        }, changed)
        profile_fields = {"department": department, "hall": HALL if window else "", "window_number": window}
        profile, created = StaffProfile.objects.get_or_create(user=user, defaults=profile_fields)
        if not created and any(getattr(profile, k) != v for k, v in profile_fields.items()):
            StaffProfile.objects.filter(pk=profile.pk).update(**profile_fields)
            changed.append(f"profile:{username}")
        elif created:
            changed.append(f"profile:{username}")
        for role in roles:
            if role == Role.PLATFORM_ADMIN:
                _ensure_role(user, role, department=None, region=None, changed=changed)
            elif role == Role.SUPERVISOR:
                _ensure_role(user, role, department=None, region=region, changed=changed)
            elif role in EVERY_DEPARTMENT_ROLES:
                for covered in Department.objects.filter(is_active=True):
                    _ensure_role(user, role, department=covered, region=None, changed=changed)
            else:
                _ensure_role(user, role, department=department, region=None, changed=changed)
        _ensure_totp(user, changed)
        loaded.append(username)
    return loaded


def _load_chief_authorisation(department: Department, changed: list[str]) -> None:
    approver = User.objects.get(username="approver")
    exists = ChiefRepresentativeAuthorisation.objects.filter(
        representative=approver, department=department, document_number=CHIEF_AUTHORISATION_NUMBER,
        revoked_at__isnull=True,
    ).exists()
    if not exists:
        ChiefRepresentativeAuthorisation.objects.create(
            representative=approver, department=department, all_items=True,
            scope_text="授权首席代表在政务服务中心窗口对本局进驻的全部行政许可事项作出准予或不予许可的决定，并签发相关文书。",
            document_number=CHIEF_AUTHORISATION_NUMBER, document_reference="ZY-SJJ-2026-SQ-001",
            signatory="遵义市市场监督管理局局长", signed_on=date(2026, 1, 5),
            valid_from=date(2026, 1, 5), valid_until=date(2028, 12, 31),
        )
        changed.append("authorisation:approver")


def _load_people(changed: list[str]) -> list[str]:
    loaded = []
    for username, real_name, born, sequence, phone, kind in _PEOPLE:
        number = make_id_number(PEOPLE_REGION, born, sequence)
        _upsert_user(username, {
            "kind": kind, "real_name": real_name, "id_type": IdType.RESIDENT_ID, "id_number": number,
            "gender": gender_from_id_number(IdType.RESIDENT_ID, number), "phone": phone, "is_active": True,
            "real_name_verified": True, "real_name_method": RealNameMethod.POLICE_DB,
        }, changed)
        loaded.append(username)
    return loaded


def _ensure_link(enterprise: Enterprise, user: User, role: str, changed: list[str]) -> None:
    current = EnterpriseHandler.objects.filter(enterprise=enterprise, user=user, revoked_at__isnull=True)
    if not current.exists():
        EnterpriseHandler.objects.create(enterprise=enterprise, user=user, role=role)
    elif current.exclude(role=role, valid_until__isnull=True).exists():
        current.update(role=role, valid_until=None)
    else:
        return
    changed.append(f"link:{enterprise.uscc}:{user.username}")


def _load_enterprises(changed: list[str]) -> None:
    for base, name, rep_username, handler_username, address in _ENTERPRISES:
        # GB 32100: registration authority 9 = 市场监督管理, category 1 = 企业.
        uscc = make_uscc("9", "1", PEOPLE_REGION, base)
        rep = User.objects.get(username=rep_username)
        fields = {
            "name": name, "legal_rep_name": rep.real_name, "legal_rep_id_type": rep.id_type,
            "legal_rep_id_number": rep.id_number, "registered_address": address, "verified": True,
        }
        enterprise, created = Enterprise.objects.get_or_create(uscc=uscc, defaults=fields)
        if created or any(getattr(enterprise, k) != v for k, v in fields.items()):
            Enterprise.objects.filter(pk=enterprise.pk).update(**fields)
            changed.append(f"enterprise:{uscc}")
        _ensure_link(enterprise, rep, HandlerRole.LEGAL_REP, changed)
        _ensure_link(enterprise, User.objects.get(username=handler_username), HandlerRole.HANDLER, changed)


@transaction.atomic
def load(*, actor: Any = None) -> list[dict[str, Any]]:
    """Create or update the demo accounts; returns the logins that are usable now."""
    changed: list[str] = []
    names = [SERVICE_DEPARTMENT, SUPERVISION_DEPARTMENT, TOWNSHIP_DEPARTMENT]
    departments = {d.name: d for d in Department.objects.filter(name__in=names).select_related("region")}
    region = Region.objects.filter(code=SUPERVISION_REGION).first()
    loaded = set(_load_staff(departments, region, changed))
    if "approver" in loaded:
        _load_chief_authorisation(departments[SERVICE_DEPARTMENT], changed)
    loaded.update(_load_people(changed))
    _load_enterprises(changed)
    if changed:
        audit.record(actor=actor, action="accounts.demo_load", object_type="accounts.demo", object_id="demo",
                     after={"changed": changed})
    return [{**login, "label": str(login["label"])} for login in DEMO_LOGINS if login["username"] in loaded]
