"""The demo cases: one at each stage, made through the services, loaded once."""

from onewindow.cases import demo
from onewindow.cases.choices import CaseStatus
from onewindow.cases.models import Case


def test_demo_cases_cover_every_stage_and_load_once(demo_data):
    statuses = sorted(Case.objects.values_list("status", flat=True))
    assert statuses == sorted([CaseStatus.SUBMITTED, CaseStatus.SUPPLEMENT, CaseStatus.IN_REVIEW,
                               CaseStatus.IN_REVIEW, CaseStatus.IN_REVIEW, CaseStatus.DELIVERED])
    deferred = Case.objects.get(idempotency_key="demo-food-0005")
    assert list(deferred.deferred_materials.values_list("material_key", flat=True)) == ["rules"]
    assert Case.objects.get(idempotency_key="demo-food-0004").steps.get(status="waiting").kind == "decide"
    assert demo.load() == {"created": 0, "skipped": len(demo.DEMO_CASES)}
