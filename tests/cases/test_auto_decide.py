"""智慧审批 on the case side: what the item's rules decide is carried out on the case, recorded with
its explanation; what they cannot decide goes to the window; nothing happens twice."""

import datetime as dt

import pytest
from django.utils import timezone

from onewindow.cases import hooks, services
from onewindow.cases.choices import CaseStatus, Decision, DocumentKind, StepStatus
from onewindow.cases.models import Case, CaseEvent, DenialFiling
from onewindow.core.errors import DomainError
from onewindow.core.models import AuditEntry, Notification
from tests.cases.test_api import Api, ok

pytestmark = pytest.mark.django_db

EXPLANATION = ["申请人年满60周岁（身份证号码推算为68岁）：符合", "申请人户籍在本市：符合"]


@pytest.fixture
def rules(monkeypatch, item):
    """rules(outcome, since=…) gives the item rules (in force since `since`) that answer `outcome`
    for every case, or no rules for None; returns the cases they were asked about."""
    asked: list[int] = []

    def install(outcome: str | None, *, since: dt.datetime = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)):
        def decide(case):
            asked.append(case.pk)
            return None if outcome is None else hooks.AutoDecision(outcome=outcome, explanation=EXPLANATION,
                                                                  rule_set="老年人优待证规则 v2")

        with_rules = {} if outcome is None else {item.pk: since}
        decider = hooks.AutoDecider(decide=decide, rules_since=lambda: with_rules,
                                    may_decide=lambda item_id: item_id in with_rules)
        monkeypatch.setattr(hooks, "auto_deciders", [decider])
        return asked

    return install


def test_approved_by_the_rules_the_case_is_decided_and_completed_without_a_person(world, filed_case, rules):
    asked = rules("approved")
    case = services.case_auto_decide(case=filed_case())

    assert asked == [case.pk]
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.decision, case.accepted_by, case.decided_by) == (
        CaseStatus.COMPLETED, Decision.APPROVED, None, None)
    assert case.decision_opinion == "\n".join(EXPLANATION)
    assert case.result_number and case.promised_due and case.completed_at and case.auto_checked_at
    assert set(case.steps.values_list("status", flat=True)) == {StepStatus.DONE}
    event = case.events.get(action="auto_decide")
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        None, CaseStatus.SUBMITTED, CaseStatus.COMPLETED, "\n".join(EXPLANATION))
    entry = AuditEntry.objects.get(action="cases.auto_decide", object_id=str(case.pk))
    assert entry.actor is None and "老年人优待证规则 v2" in entry.changes and EXPLANATION[0] in entry.changes
    assert Notification.objects.filter(recipient=world.citizen, subject="办件已智能审批办结").exists()


def test_a_denial_by_the_rules_is_filed_with_the_explanation_as_its_reasons(filed_case, rules):
    rules("denied")
    case = services.case_auto_decide(case=filed_case())

    assert (case.status, case.decision) == (CaseStatus.COMPLETED, Decision.DENIED)
    filing = DenialFiling.objects.get(case=case)
    assert filing.reasons == "\n".join(EXPLANATION) and filing.basis


def test_what_the_rules_cannot_decide_goes_to_the_window_with_the_reason(world, filed_case, rules):
    asked = rules("manual")
    case = services.case_auto_decide(case=filed_case())

    assert case.status == CaseStatus.SUBMITTED and case.decision == ""
    assert case.events.get(action="auto_check").note == "\n".join(EXPLANATION)
    # Looked at once: another call (a retry, the sweep) does not ask again or record again.
    services.case_auto_decide(case=case)
    assert asked == [case.pk] and case.events.filter(action="auto_check").count() == 1
    accepted = services.case_accept(actor=world.clerk, case=case)
    assert accepted.status == CaseStatus.IN_REVIEW


def test_items_without_rules_cost_the_submission_nothing_and_leave_no_trace(
        filed_case, rules, django_assert_num_queries):
    asked = rules(None)
    case = filed_case()
    events, entries = CaseEvent.objects.count(), AuditEntry.objects.count()

    with django_assert_num_queries(0):
        case = services.case_auto_decide(case=case)

    assert case.status == CaseStatus.SUBMITTED and asked == []
    assert (CaseEvent.objects.count(), AuditEntry.objects.count()) == (events, entries)
    assert services.auto_decide_sweep() == 0 and asked == []


def test_only_a_submitted_case_is_decided_by_the_rules(world, filed_case, rules):
    case = filed_case()  # before the item had rules
    asked = rules("approved")
    accepted = services.case_accept(actor=world.clerk, case=case)

    assert services.case_auto_decide(case=accepted).status == CaseStatus.IN_REVIEW
    assert asked == []


def test_the_sweep_decides_submissions_whose_moment_was_lost(filed_case, rules):
    first, second = filed_case(), filed_case()
    asked = rules("approved")

    assert services.auto_decide_sweep() == 2
    assert sorted(asked) == sorted([first.pk, second.pk])
    assert set(Case.objects.filter(pk__in=asked).values_list("status", flat=True)) == {CaseStatus.COMPLETED}
    assert services.auto_decide_sweep() == 0


def test_the_sweep_leaves_cases_submitted_before_the_item_had_rules(filed_case, rules, monkeypatch):
    earlier = filed_case()
    asked = rules("approved", since=timezone.now())
    with monkeypatch.context() as lagging:  # the submitting process had not yet heard of the rules
        lagging.setattr(hooks, "may_auto_decide", lambda item_id: False)
        later = filed_case()
    assert asked == []

    assert services.auto_decide_sweep() == 1
    assert asked == [later.pk]
    assert Case.objects.get(pk=earlier.pk).status == CaseStatus.SUBMITTED


def test_submitting_through_the_api_gives_the_decided_case_at_once(world, item, rules):
    rules("approved")
    api = Api(world.citizen)
    case_id = ok(api.post("/", {"impl_code": item.impl_code}), 201)["id"]
    ok(api.put(f"/{case_id}/form", {"form_data": {"location": "红花岗区中华南路88号"}}))
    for key, seed in (("application", 1), ("site_photos", 2)):
        ok(api.upload(case_id, key, seed), 201)

    body = ok(api.post(f"/{case_id}/submit", None, **{"Idempotency-Key": "smart-submit-0001"}))

    assert (body["status"], body["decision"]) == (CaseStatus.COMPLETED, Decision.APPROVED)
    assert any(event["action"] == "auto_decide" for event in ok(api.get(f"/{case_id}"))["timeline"])


def test_a_submission_is_judged_in_its_own_transaction_and_the_applicant_hears_once(world, filed_case, rules):
    rules("approved")
    notes = Notification.objects.filter(recipient=world.citizen)
    before = notes.count()

    case = filed_case()

    assert (case.status, case.decision) == (CaseStatus.COMPLETED, Decision.APPROVED)
    assert list(case.events.order_by("pk").values_list("action", flat=True))[-2:] == ["submit", "auto_decide"]
    assert list(notes.order_by("pk")[before:].values_list("subject", flat=True)) == ["办件已智能审批办结"]


def test_a_decision_that_cannot_be_carried_out_leaves_the_submission_to_the_window(
        world, filed_case, rules, monkeypatch):
    rules("approved")

    def refuse(case):
        case.documents.create(kind=DocumentKind.APPROVAL, number="half-done", issued_at=case.submitted_at,
                              facts={})  # undone with the refusal
        raise DomainError("申请人身份尚未核验，不能签发电子证照。")

    monkeypatch.setattr(hooks, "issue_result", refuse)
    case = filed_case()

    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.decision, case.result_number) == (CaseStatus.SUBMITTED, "", "")
    assert case.number and case.auto_checked_at and not case.steps.exists()
    assert list(case.documents.values_list("kind", flat=True)) == [DocumentKind.RECEIPT]
    assert case.events.get(action="auto_check").note == "\n".join([*EXPLANATION, "申请人身份尚未核验，不能签发电子证照。"])
    assert Notification.objects.filter(recipient=world.citizen, subject="申请已提交").exists()
    assert services.case_accept(actor=world.clerk, case=case).status == CaseStatus.IN_REVIEW


def test_the_sweep_leaves_a_decision_it_cannot_carry_out_to_the_window_once(world, filed_case, rules, monkeypatch):
    case = filed_case()  # submitted before the item had rules
    asked = rules("approved")

    def refuse(case):
        raise DomainError("申请人身份尚未核验，不能签发电子证照。")

    monkeypatch.setattr(hooks, "issue_result", refuse)
    assert services.auto_decide_sweep() == 0

    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.decision) == (CaseStatus.SUBMITTED, "")
    assert case.auto_checked_at and not case.steps.exists()
    assert list(case.events.filter(action__startswith="auto").values_list("action", "note")) == [
        ("auto_check", "\n".join([*EXPLANATION, "申请人身份尚未核验，不能签发电子证照。"]))]
    assert AuditEntry.objects.filter(action="cases.auto_decide", object_id=str(case.pk)).count() == 0
    assert services.auto_decide_sweep() == 0 and asked == [case.pk, case.pk]  # judged again only to record why
