"""The demo licence library: the licence types the demo catalogue's materials name (营业执照,
居民身份证, 不动产权证书, 居民户口簿), and a licence of each kind for the demo people and
enterprises, so applications can attach them by reference.

`load` writes through the services as the demo platform administrator and is idempotent: types
are matched by code, licences by type and holder. Needs the demo regions and accounts.
"""

import datetime as dt

from django.db import transaction

from onewindow.accounts.models import Enterprise, User
from onewindow.core.models import Department
from onewindow.licences import services
from onewindow.licences.models import Licence, LicenceType

OPERATOR = "admin"
TEXT, DATE, INTEGER = "text", "date", "integer"

# code, name, department, holder kind, validity years, fields (key, label, type, required)
TYPES = [
    (
        "business_licence",
        "营业执照",
        "遵义市市场监督管理局",
        "legal_person",
        None,
        [
            ("company_type", "类型", TEXT, True),
            ("legal_rep", "法定代表人", TEXT, True),
            ("registered_capital", "注册资本", TEXT, False),
            ("founded_on", "成立日期", DATE, True),
            ("address", "住所", TEXT, True),
            ("scope", "经营范围", TEXT, True),
        ],
    ),
    (
        "resident_id_card",
        "居民身份证",
        "遵义市公安局",
        "person",
        20,
        [("address", "住址", TEXT, True), ("authority", "签发机关", TEXT, True)],
    ),
    (
        "real_estate_certificate",
        "不动产权证书",
        "遵义市自然资源局",
        "person",
        None,
        [
            ("location", "坐落", TEXT, True),
            ("area", "面积（平方米）", INTEGER, True),
            ("use", "用途", TEXT, True),
        ],
    ),
    (
        "household_register",
        "居民户口簿",
        "遵义市公安局",
        "person",
        None,
        [("household_number", "户号", TEXT, True), ("address", "住址", TEXT, True)],
    ),
]


def _fields(specs: list[tuple[str, str, str, bool]]) -> list[dict]:
    return [
        {"key": key, "label": label, "type": kind, "required": required}
        for key, label, kind, required in specs
    ]


def _issue_once(
    operator: User,
    licence_type: LicenceType,
    holder_id: str,
    holder_name: str,
    fields: dict,
    valid_from: dt.date,
) -> int:
    if Licence.objects.filter(licence_type=licence_type, holder_id=holder_id).exists():
        return 0
    services.licence_issue(
        actor=operator,
        licence_type=licence_type,
        holder_id=holder_id,
        holder_name=holder_name,
        fields=fields,
        valid_from=valid_from,
        issued_on=valid_from,
    )
    return 1


@transaction.atomic
def load() -> dict[str, int]:
    operator = User.objects.filter(username=OPERATOR).first()
    if operator is None:
        return {"types": 0, "licences": 0}
    departments = {
        d.name: d for d in Department.objects.filter(name__in={row[2] for row in TYPES})
    }
    types, made = {}, 0
    for code, name, department, holder_kind, years, specs in TYPES:
        if department not in departments:
            continue
        found = LicenceType.objects.filter(code=code).first()
        if found is None:
            found = services.licence_type_save(
                actor=operator,
                code=code,
                name=name,
                department=departments[department],
                holder_kind=holder_kind,
                fields=_fields(specs),
                validity_years=years,
                replaces_materials=[name],
            )
            made += 1
        types[code] = found
    issued = 0
    people = (
        User.objects.filter(real_name_verified=True)
        .exclude(id_number="")
        .order_by("username")
    )
    for index, person in enumerate(people):
        if "resident_id_card" in types:
            issued += _issue_once(
                operator,
                types["resident_id_card"],
                person.id_number,
                person.real_name,
                {
                    "address": f"贵州省遵义市红花岗区中华南路{index + 1}号",
                    "authority": "遵义市公安局红花岗分局",
                },
                dt.date(2020, 3, 1),
            )
        if "household_register" in types:
            issued += _issue_once(
                operator,
                types["household_register"],
                person.id_number,
                person.real_name,
                {
                    "household_number": f"5203020{index + 1:05d}",
                    "address": f"贵州省遵义市红花岗区中华南路{index + 1}号",
                },
                dt.date(2018, 6, 1),
            )
    if "business_licence" in types:
        for enterprise in Enterprise.objects.filter(verified=True).order_by("uscc"):
            issued += _issue_once(
                operator,
                types["business_licence"],
                enterprise.uscc,
                enterprise.name,
                {
                    "company_type": "有限责任公司（自然人投资或控股）",
                    "legal_rep": enterprise.legal_rep_name,
                    "registered_capital": "伍佰万元整",
                    "founded_on": "2019-04-18",
                    "address": enterprise.registered_address,
                    "scope": enterprise.business_scope or "批发和零售业",
                },
                dt.date(2019, 4, 18),
            )
    return {"types": made, "licences": issued}
