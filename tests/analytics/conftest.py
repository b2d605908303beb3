"""Analytics counts the cases of supervision's small world."""

from tests.supervision.conftest import (  # noqa: F401
    STANDARD,
    accepted_case,
    approver,
    basic,
    clerk,
    delivered_case,
    filed_case,
    item,
    item_content,
    move_to,
    other_clerk,
    people,
    publish,
    reviewer,
    settled_feed,
    world,
)
