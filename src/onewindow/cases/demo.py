"""Demo cases: applications of the demo enterprises and citizens at every stage, so the portal,
the workbench and the supervision screens show real work. Every case is made through the
services by the demo account that would act in real life (the applicant, the window clerk, the
reviewer, the chief representative), so numbers, documents, clocks and the audit ledger are the
real ones. Idempotent: a case is identified by its applicant and submission key.
"""

from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from onewindow.accounts.models import Enterprise, User
from onewindow.cases import services
from onewindow.cases.choices import Decision
from onewindow.cases.models import Case
from onewindow.catalogue.models import ImplementationItem
from onewindow.core.pdf import PdfDocument

SERVICE_DEPARTMENT = "遵义市市场监督管理局"
FOOD_LICENCE = "食品经营许可"


def _scan(title: str, lines: list[str]) -> SimpleUploadedFile:
    """A scanned material as the applicant would upload it: a one-page PDF."""
    document = PdfDocument(title=title)
    document.title(title, _("演示材料"))
    for line in lines:
        document.paragraph(line)
    return SimpleUploadedFile(f"{title}.pdf", document.build(), content_type="application/pdf")


@dataclass
class DemoCase:
    key: str
    applicant: str
    enterprise: str
    premises: str
    stage: str  # submitted | supplement | review | decision | deferred | delivered


DEMO_CASES = [
    DemoCase("demo-food-0001", "handler1", "遵义黔北茶业有限公司", "中华南路88号一楼", "submitted"),
    DemoCase("demo-food-0002", "handler2", "遵义湘江建材商贸有限公司", "凤凰路16号职工食堂", "supplement"),
    DemoCase("demo-food-0003", "handler1", "遵义黔北茶业有限公司", "中华南路90号茶餐厅", "review"),
    DemoCase("demo-food-0004", "handler2", "遵义湘江建材商贸有限公司", "凤凰路18号门面", "decision"),
    DemoCase("demo-food-0005", "handler1", "遵义黔北茶业有限公司", "中华北路12号", "deferred"),
    DemoCase("demo-food-0006", "handler2", "遵义湘江建材商贸有限公司", "凤凰路20号", "delivered"),
]
MATERIAL_TITLES = {
    "application": "食品经营许可申请书",
    "business_licence": "营业执照副本",
    "layout": "经营场所平面布局图及设备清单",
    "rules": "食品安全管理制度目录清单",
    "manager_id": "法定代表人身份证明",
}


def _food_item() -> ImplementationItem | None:
    return (ImplementationItem.objects.filter(name=FOOD_LICENCE, department__name=SERVICE_DEPARTMENT,
                                              current_version__isnull=False)
            .select_related("current_version").first())


def _form(demo: DemoCase, handler: User) -> dict[str, Any]:
    return {
        "premises": {"region": "520302", "detail": demo.premises},
        "business_form": "catering",
        "items": ["hot", "cold"],
        "online": "no",
        "staff": [{"name": handler.real_name, "id_number": handler.id_number, "phone": handler.phone}],
    }


def _file(case: Case, handler: User, demo: DemoCase, *, deferred: tuple[str, ...] = ()) -> Case:
    services.case_save_form(actor=handler, case=case, data={**case.form_data, **_form(demo, handler)})
    for key, title in MATERIAL_TITLES.items():
        if key in deferred:
            continue
        services.case_attach(actor=handler, case=case, material_key=key,
                             uploaded_file=_scan(title, [demo.enterprise, demo.premises]))
    commitment = _("本单位承诺在受理通知书规定的期限内补交容缺材料，逾期未补交的，愿意承担终止办理的后果。")
    return services.case_submit(actor=handler, case=case, idempotency_key=demo.key, deferral=list(deferred),
                                commitment=commitment if deferred else "")


def _advance(case: Case, stage: str, staff: dict[str, User]) -> None:
    clerk, reviewer, approver = staff["clerk"], staff["reviewer"], staff["approver"]
    if stage == "submitted":
        return
    if stage == "supplement":
        services.case_request_supplement(actor=clerk, case=case, missing=[
            {"material_key": "layout", "reason": _("平面布局图未标明各功能区面积，请补充标注后重新上传。")},
            {"material_key": "", "reason": _("食品安全管理人员须另填一名，食堂日供餐人数超过100人。")},
        ])
        return
    case = services.case_accept(actor=clerk, case=case)
    if stage in ("review", "deferred"):
        return
    services.step_claim(actor=reviewer, case=case)
    services.step_pass(actor=reviewer, case=case, opinion=_("申请材料齐全，经营场所布局符合要求，建议准予许可。"))
    if stage == "decision":
        return
    services.case_decide(actor=approver, case=case, decision=Decision.APPROVED,
                         opinion=_("符合《中华人民共和国食品安全法》第三十五条规定，准予许可。"))
    services.case_complete(actor=clerk, case=case)
    services.case_deliver(actor=clerk, case=case, method="electronic")


@transaction.atomic
def load() -> dict[str, int]:
    """File the demo cases that do not exist yet; returns counts."""
    item = _food_item()
    staff = {name: User.objects.filter(username=name).first() for name in ("clerk", "reviewer", "approver")}
    if item is None or None in staff.values():
        return {"created": 0, "skipped": 0}
    created = skipped = 0
    for demo in DEMO_CASES:
        handler = User.objects.filter(username=demo.applicant).first()
        enterprise = Enterprise.objects.filter(name=demo.enterprise).first()
        if handler is None or enterprise is None:
            continue
        if Case.objects.filter(applicant=handler, idempotency_key=demo.key).exists():
            skipped += 1
            continue
        draft = services.case_start(actor=handler, item=item, enterprise=enterprise)
        deferred = ("rules",) if demo.stage == "deferred" else ()
        _advance(_file(draft, handler, demo, deferred=deferred), demo.stage, staff)
        created += 1
    return {"created": created, "skipped": skipped}
