"""A supervisor's review of a denial filing fills the filing's review fields through the cases
service and leaves one audit entry, supervision's own."""

from onewindow.cases.models import DenialFiling
from onewindow.core.models import AuditEntry
from onewindow.supervision import services
from onewindow.supervision.choices import DenialOutcome


def test_one_review_leaves_one_audit_entry(people, delivered_case):
    delivered_case(decision="denied")
    filing = DenialFiling.objects.get()
    last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    review = services.denial_review(
        actor=people.supervisor,
        filing=filing,
        outcome=DenialOutcome.UPHELD,
        opinion="理由与依据充分。",
    )
    filing.refresh_from_db()
    assert filing.reviewed_at == review.reviewed_at
    assert filing.review_opinion == review.opinion == "理由与依据充分。"
    added = AuditEntry.objects.filter(pk__gt=last).values_list("action", flat=True)
    assert list(added) == ["supervision.denial.review"]
