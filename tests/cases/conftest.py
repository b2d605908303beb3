"""Cases are filed against published catalogue items: the catalogue's small world is reused."""

import pytest

from onewindow.accounts.choices import Role
from onewindow.accounts.models import RoleAssignment
from onewindow.catalogue import services as catalogue
from tests.catalogue.conftest import STANDARD, basic, item_content, publish, world  # noqa: F401


@pytest.fixture
def item(world, basic, publish):
    """户外广告设置许可 of the city department, published: promise 8 working days, statutory 20."""
    version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                    content=item_content())
    published = publish(version)
    return type(published.item).objects.get(pk=published.item_id)


@pytest.fixture
def clerk(world):
    return world.clerk


@pytest.fixture
def other_clerk(world, make_user):
    from onewindow.accounts.choices import AccountKind

    user = make_user("otherclerk", kind=AccountKind.STAFF, otp=True)
    RoleAssignment.objects.create(user=user, role=Role.WINDOW_CLERK, department=world.other)
    return user


def _staff(world, make_user, username, role, department):
    from onewindow.accounts.choices import AccountKind

    user = make_user(username, kind=AccountKind.STAFF, otp=True, real_name=username)
    RoleAssignment.objects.create(user=user, role=role, department=department)
    return user


@pytest.fixture
def reviewer(world, make_user):
    """审核员 of the item's department."""
    return _staff(world, make_user, "reviewer", Role.REVIEWER, world.market)


@pytest.fixture
def approver(world, make_user):
    """首席代表 of the item's department, with a written authorisation in force for all its items."""
    import datetime as dt

    from onewindow.accounts.models import ChiefRepresentativeAuthorisation

    user = _staff(world, make_user, "approver", Role.APPROVER, world.market)
    today = dt.date.today()
    ChiefRepresentativeAuthorisation.objects.create(
        representative=user, department=world.market, scope_text="本部门全部行政许可事项", all_items=True,
        document_number="遵执法授〔2026〕1号", signatory="局长", signed_on=today - dt.timedelta(days=30),
        valid_from=today - dt.timedelta(days=30), valid_until=today + dt.timedelta(days=365),
    )
    return user


def make_png(seed: int) -> bytes:
    """A valid 1×1 PNG whose pixel (and so whose hash) depends on `seed`."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    pixel = bytes([0, seed % 256, (seed * 7) % 256, (seed * 13) % 256, 255])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))


@pytest.fixture
def filed_case(world, item):
    """filed_case(**submit_options) → a submitted case of world.citizen: the form filled in, the
    申请表 and two site photos attached (three files with distinct bytes)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from onewindow.cases import services

    counter = iter(range(1, 10_000))

    def make(*, photos: bool = True, **submit):
        citizen = world.citizen
        case = services.case_start(actor=citizen, item=item)
        services.case_save_form(actor=citizen, case=case, data={"location": "红花岗区中华南路88号"})
        uploads = [("application", "申请表.png")] + ([("site_photos", "现场照片.png")] * 2 if photos else [])
        for key, name in uploads:
            services.case_attach(actor=citizen, case=case, material_key=key,
                                 uploaded_file=SimpleUploadedFile(name, make_png(next(counter)), "image/png"))
        return services.case_submit(actor=citizen, case=case, idempotency_key=f"filed-{next(counter):06d}", **submit)

    return make


@pytest.fixture
def delivered_case(world, filed_case, reviewer, approver):
    """delivered_case(decision="approved" | "denied") → a case taken through the services:
    accepted by the window, reviewed, decided by the chief representative, completed and
    delivered at the window (archive it with `services.case_archive(actor=world.clerk, ...)`)."""
    from onewindow.cases import services

    def make(*, decision: str = "approved"):
        case = services.case_accept(actor=world.clerk, case=filed_case())
        services.step_claim(actor=reviewer, case=case)
        services.step_pass(actor=reviewer, case=case, opinion="材料齐全，设置地点符合规划。")
        if decision == "approved":
            case = services.case_decide(actor=approver, case=case, decision=decision, opinion="同意设置。")
        else:
            case = services.case_decide(actor=approver, case=case, decision=decision, reasons="设置地点位于禁设区域。",
                                        basis="《遵义市户外广告设置管理办法》第十条")
        case = services.case_complete(actor=world.clerk, case=case)
        return services.case_deliver(actor=world.clerk, case=case, method="window")

    return make


# --- the applicant portal -------------------------------------------------------------------------


@pytest.fixture
def portal_resident(make_user):
    """A citizen with a verified identity (ID number and real name), whom an agent files for."""
    import datetime as dt

    from onewindow.accounts.choices import AccountKind
    from onewindow.core.identifiers import make_id_number

    return make_user("portal_resident", kind=AccountKind.CITIZEN, real_name="王芳",
                     id_number=make_id_number("520302", dt.date(1990, 7, 25), 222))


@pytest.fixture
def portal_outsider(make_user):
    """Another citizen, who must see nothing of world.citizen's cases."""
    from onewindow.accounts.choices import AccountKind

    return make_user("portal_outsider", kind=AccountKind.CITIZEN, real_name="李娜")


@pytest.fixture
def portal_agent(world, make_user):
    """代办员 of the district's service centre (a staff account with a second factor)."""
    from onewindow.accounts.choices import AccountKind

    user = make_user("portal_agent", kind=AccountKind.STAFF, otp=True, real_name="黄小梅")
    RoleAssignment.objects.create(user=user, role=Role.VILLAGE_AGENT, department=world.district)
    return user
