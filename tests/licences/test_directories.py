"""The legal-person directory: licences held under a USCC belong to the enterprise's handlers
while their authorisation is in force; and licence types kept in the admin through the service."""

from onewindow.accounts.choices import AccountKind
from onewindow.accounts.models import Enterprise, EnterpriseHandler
from onewindow.core.identifiers import make_uscc
from onewindow.core.models import AuditEntry
from onewindow.licences import selectors, services
from onewindow.licences.models import LicenceType


def test_an_enterprise_licence_is_in_its_handlers_directory(
    world, make_user, licence_type
):
    business = services.licence_type_save(
        actor=world.editor,
        code="ad_company_permit",
        name="户外广告经营登记证",
        department=world.market,
        holder_kind="legal_person",
        fields=[
            {"key": "scope", "label": "经营范围", "type": "text", "required": True}
        ],
    )
    uscc = make_uscc("9", "1", "520302", "MA6DX123")
    enterprise = Enterprise.objects.create(
        name="遵义市星光广告有限公司",
        uscc=uscc,
        legal_rep_name="赵六",
        legal_rep_id_number="",
        registered_address="红花岗区",
    )
    handler = make_user("handler", kind=AccountKind.ENTERPRISE, real_name="钱七")
    link = EnterpriseHandler.objects.create(enterprise=enterprise, user=handler)
    licence = services.licence_issue(
        actor=world.editor,
        licence_type=business,
        holder_id=uscc,
        holder_name=enterprise.name,
        fields={"scope": "户外广告设计、制作、发布"},
    )
    assert licence.valid_until is None  # 长期
    assert list(selectors.my_licences(handler)) == [licence]
    assert selectors.verify_licence(licence).valid
    link.revoked_at = link.created_at
    link.save(update_fields=["revoked_at"])
    assert list(selectors.my_licences(handler)) == []


def test_a_person_type_refuses_a_uscc_holder(world, licence_type):
    import pytest

    from onewindow.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        services.licence_issue(
            actor=world.editor,
            licence_type=licence_type,
            holder_id=make_uscc("9", "1", "520302", "MA6DX123"),
            holder_name="x",
            fields={"location": "x"},
        )
    assert refused.value.field == "holder_id"


def test_the_admin_saves_licence_types_through_the_service(admin_client, world):
    response = admin_client.post(
        "/admin/licences/licencetype/add/",
        {
            "code": "food_permit",
            "name": "食品经营许可证",
            "department": world.market.pk,
            "holder_kind": "legal_person",
            "fields": '[{"key": "scope", "label": "经营项目", "type": "text", "required": true}]',
            "validity_years": "5",
            "reminder_days": "60",
            "algorithm": "sm2",
            "print_title": "",
            "print_note": "",
            "issued_for_items": "[]",
            "replaces_materials": '["食品经营许可证"]',
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved = LicenceType.objects.get(code="food_permit")
    assert (saved.algorithm, saved.validity_years, saved.fields[0]["key"]) == (
        "sm2",
        5,
        "scope",
    )
    assert AuditEntry.objects.filter(
        action="licences.type.save", object_id=str(saved.pk)
    ).exists()
    refused = admin_client.post(
        "/admin/licences/licencetype/add/",
        {
            "code": "Bad Code",
            "name": "x",
            "department": world.market.pk,
            "holder_kind": "person",
            "fields": "[]",
            "reminder_days": "30",
            "algorithm": "ed25519",
            "issued_for_items": "[]",
            "replaces_materials": "[]",
        },
    )
    assert refused.status_code == 200 and "证照类型代码" in refused.content.decode()
