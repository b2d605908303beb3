"""The demo's smart items: published with rules that pass their examples, loaded once, and
deciding the demo resident's applications at once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from onewindow.accounts import demo as accounts_demo
from onewindow.accounts.models import User
from onewindow.cases import hooks
from onewindow.cases import services as cases
from onewindow.cases.choices import CaseStatus, Decision
from onewindow.catalogue import demo as catalogue_demo
from onewindow.core import demo_regions
from onewindow.smart import demo
from onewindow.smart.choices import RuleSetStatus
from onewindow.smart.decisions import run_examples
from tests.cases.conftest import make_png

pytestmark = pytest.mark.django_db
NAMES = (demo.ELDERLY_CARD, demo.ID_CARD_RENEWAL, demo.SUBSIDY)


@pytest.fixture
def loaded():
    demo_regions.load()
    accounts_demo.load()
    catalogue_demo.load()
    return demo.load()


def _apply(applicant, item, form, key, materials=()):
    case = cases.case_start(actor=applicant, item=item)
    cases.case_save_form(actor=applicant, case=case, data=form)
    for seed, material in enumerate(materials):
        cases.case_attach(
            actor=applicant,
            case=case,
            material_key=material,
            uploaded_file=SimpleUploadedFile(
                f"{material}.png", make_png(seed), "image/png"
            ),
        )
    return cases.case_auto_decide(
        case=cases.case_submit(actor=applicant, case=case, idempotency_key=key)
    )


def test_three_smart_items_are_published_with_rules_and_load_once(loaded):
    assert loaded == {"items": 3, "rule_sets": 3}
    for name in NAMES:
        rule_set = demo.smart_item(name).rule_sets.get(status=RuleSetStatus.PUBLISHED)
        assert all(result.passed for result in run_examples(rule_set)), name
    assert demo.load() == {"items": 3, "rule_sets": 0}


def test_the_demo_resident_is_decided_at_once(loaded, monkeypatch):
    elder = User.objects.get(username=demo.ELDER)
    home = {"region": "520302", "detail": "中华南路1号"}

    card = _apply(
        elder,
        demo.smart_item(demo.ELDERLY_CARD),
        {
            "name": elder.real_name,
            "id_number": elder.id_number,
            "household": "local",
            "pickup": "electronic",
        },
        "demo-smart-1",
        materials=("applicant_id", "photo"),
    )
    assert (card.status, card.decision) == (CaseStatus.COMPLETED, Decision.APPROVED)
    assert "【符合】年满60周岁" in card.decision_opinion

    subsidy = _apply(
        elder,
        demo.smart_item(demo.SUBSIDY),
        {"address": home, "monthly_income": "2600", "phone": elder.phone},
        "demo-smart-2",
    )
    assert (subsidy.status, subsidy.decision) == (CaseStatus.COMPLETED, Decision.DENIED)
    assert "【不符合】家庭人均月收入不高于2000元" in subsidy.decision_opinion

    class Library:
        def valid_licences(self, *, holder_ids, licence_type):
            if elder.id_number not in holder_ids:
                return []
            return [
                hooks.LicenceRecord(
                    number="ID-1",
                    licence_type=licence_type,
                    name="居民身份证",
                    holder_id=elder.id_number,
                )
            ]

    monkeypatch.setattr(hooks, "licence_sources", [Library()])
    renewal = _apply(
        elder,
        demo.smart_item(demo.ID_CARD_RENEWAL),
        {
            "name": elder.real_name,
            "id_number": elder.id_number,
            "reason": "expired",
            "pickup": "window",
            "mobile": elder.phone,
        },
        "demo-smart-3",
        materials=("hukou", "old_card", "photo"),
    )
    assert (renewal.status, renewal.decision) == (
        CaseStatus.COMPLETED,
        Decision.APPROVED,
    )
