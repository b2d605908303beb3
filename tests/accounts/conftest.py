"""Accounts fixtures: a small region tree (贵州省 → 遵义市 → 红花岗区, and 贵阳市), two departments
in 遵义市 and one in 贵阳市, and people made through the services under test."""

from datetime import date
from types import SimpleNamespace

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from onewindow.accounts import services
from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment, User
from onewindow.core.identifiers import make_id_number, make_uscc
from onewindow.core.models import AuditEntry
from onewindow.core.services.regions import department_create, region_create

PASSWORD = "Kq7#tower-lantern"
# A valid GB 11643 number from the reference test vector.
ID_NUMBER = "11010519491231002X"
USCC = "91350100M000100Y43"


def totp_now(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def audit_count() -> int:
    return AuditEntry.objects.count()


@pytest.fixture
def places(db):
    gz = region_create(actor=None, code="520000", name="贵州省", parent=None)
    zy = region_create(actor=None, code="520300", name="遵义市", parent=gz)
    hhg = region_create(actor=None, code="520302", name="红花岗区", parent=zy)
    gy = region_create(actor=None, code="520100", name="贵阳市", parent=gz)

    def department(name: str, region, base: str):
        return department_create(actor=None, name=name, short_name="", uscc=make_uscc("1", "1", region.code, base),
                                 region=region, parent=None)

    return SimpleNamespace(
        gz=gz, zy=zy, hhg=hhg, gy=gy,
        market=department("遵义市市场监督管理局", zy, "TM520301"),
        housing=department("遵义市住房和城乡建设局", zy, "TM520302"),
        hhg_centre=department("红花岗区政务服务中心", hhg, "TM520303"),
        guiyang=department("贵阳市市场监督管理局", gy, "TM520101"),
    )


@pytest.fixture
def root(db):
    """A platform administrator (Django superuser) to bootstrap staff and roles."""
    return User.objects.create_superuser(username="root", password=PASSWORD, kind=AccountKind.STAFF,
                                         real_name="系统管理员", phone="19900001000")


_phones = iter(range(19900002000, 19900009999))


@pytest.fixture
def make_staff(root, places):
    """``make_staff("name", department, Role.X, ...)``: a staff account with roles and a TOTP device."""

    def make(username: str, department, *roles: str, region=None, totp: bool = True) -> User:
        user = services.staff_create(actor=root, department=department, username=username, password=PASSWORD,
                                     real_name=f"{username}姓名", phone=str(next(_phones)))
        for role in roles:
            if role == Role.SUPERVISOR:
                services.role_grant(actor=root, user=user, role=role, region=region or department.region)
            elif role == Role.PLATFORM_ADMIN:
                services.role_grant(actor=root, user=user, role=role)
            else:
                services.role_grant(actor=root, user=user, role=role, department=department)
        if totp:
            TOTPDevice.objects.create(user=user, name="app", confirmed=True)
        return User.objects.get(pk=user.pk)

    return make


@pytest.fixture
def market_admin(make_staff, places):
    return make_staff("marketadmin", places.market, Role.DEPARTMENT_ADMIN)


@pytest.fixture
def make_citizen(db):
    sequence = iter(range(11, 999, 2))

    def make(username: str, *, real_name: str = "王小明", born: date = date(1988, 6, 1), **extra) -> User:
        return services.citizen_register(username=username, password=PASSWORD, real_name=real_name,
                                         id_number=make_id_number("520302", born, next(sequence)), **extra)

    return make


def active_roles(user: User) -> list[str]:
    return sorted(RoleAssignment.objects.active().filter(user=user).values_list("role", flat=True))
