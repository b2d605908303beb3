"""The issuing department's workbench pages: its licences with search and a status filter, a
licence's page with its versions, access log and status changes, and issuing a licence. The
department administrator acts; its other staff read; other departments get 404, citizens 403;
a refusal shows the reason and changes nothing."""

import pytest
from django.urls import reverse

from onewindow.core.models import AuditEntry
from onewindow.licences import selectors
from onewindow.licences.choices import LicenceStatus, VersionKind
from onewindow.licences.models import Licence
from tests.licences.conftest import HOLDER_ID, OTHER_ID

pytestmark = pytest.mark.django_db

LIST = reverse("licences:department")
# The holder's ID number with another check character.
WRONG_CHECK = HOLDER_ID[:17] + ("1" if HOLDER_ID[17] != "1" else "2")
ISSUE = reverse("licences:department_issue", args=["outdoor_ad_permit"])


def detail(licence: Licence) -> str:
    return reverse("licences:department_detail", args=[licence.number])


def action(licence: Licence, name: str) -> str:
    return reverse("licences:department_status", args=[licence.number, name])


def status_of(licence: Licence) -> str:
    return Licence.objects.get(pk=licence.pk).status


def test_the_pages_render_for_the_department_administrator(client_as, world, issue):
    licence = issue()
    editor = client_as(world.editor)
    listing = editor.get(LIST)
    page = listing.content.decode()
    assert listing.status_code == 200 and licence.number in page
    assert "签发户外广告设置许可证" in page
    assert f'href="{LIST}"' in editor.get(reverse("core:workbench")).content.decode()
    shown = editor.get(detail(licence))
    page = shown.content.decode()
    assert shown.status_code == 200 and "红花岗区中华南路88号" in page
    assert "版本记录" in page and "还没有人调用过这份证照" in page
    for name in ("suspend", "revoke", "cancel"):
        assert action(licence, name) in page
    assert action(licence, "reinstate") not in page
    form = editor.get(ISSUE)
    assert form.status_code == 200 and "设置地点" in form.content.decode()


def test_search_by_number_holder_and_status(client_as, world, issue):
    mine, other = issue(), issue(holder_id=OTHER_ID, holder_name="李四")
    editor = client_as(world.editor)
    editor.post(action(other, "revoke"), {"reason": "违法设置"})

    def found(**query) -> list[str]:
        response = editor.get(LIST, query)
        assert response.status_code == 200
        page = response.content.decode()
        return [n for n in (mine.number, other.number) if n in page]

    assert found() == [mine.number, other.number]
    assert found(q="李四") == [other.number]
    assert found(q=HOLDER_ID) == [mine.number]
    assert found(q=mine.number.lower()) == [mine.number]
    assert found(status="revoked") == [other.number]
    assert found(q="李四", status="valid") == []
    unknown = editor.get(LIST, {"status": "lost"})
    assert unknown.status_code == 400 and mine.number not in unknown.content.decode()


def test_other_departments_get_404_and_citizens_403(client_as, world, issue, people):
    licence = issue()
    outsider = client_as(world.outsider)  # administrator of another department
    assert licence.number not in outsider.get(LIST).content.decode()
    assert outsider.get(detail(licence)).status_code == 404
    assert outsider.get(ISSUE).status_code == 404
    refused = outsider.post(action(licence, "revoke"), {"reason": "越权"})
    assert refused.status_code == 404 and status_of(licence) == LicenceStatus.VALID
    citizen = client_as(people.holder)
    for url in (LIST, detail(licence), ISSUE):
        assert citizen.get(url).status_code == 403
    clerk_menu = client_as(world.clerk).get(reverse("core:workbench")).content.decode()
    assert f'href="{LIST}"' not in clerk_menu


def test_staff_who_may_not_issue_read_but_cannot_act(client_as, world, issue):
    licence = issue()
    clerk = client_as(world.clerk)  # window clerk of the issuing department
    page = clerk.get(detail(licence))
    assert page.status_code == 200 and action(licence, "suspend") not in (
        page.content.decode()
    )
    refused = clerk.post(action(licence, "suspend"), {"reason": "越权"})
    assert refused.status_code == 403 and "您没有权限暂停" in refused.content.decode()
    assert clerk.get(ISSUE).status_code == 403
    assert status_of(licence) == LicenceStatus.VALID
    assert not AuditEntry.objects.filter(action="licences.licence.suspend").exists()


def test_each_status_action_changes_the_status_and_is_audited(client_as, world, issue):
    licence, other = issue(), issue()
    editor = client_as(world.editor)
    steps = [
        (licence, "suspend", {"reason": "整改期间暂停"}, LicenceStatus.SUSPENDED),
        (licence, "reinstate", {"reason": "整改完成"}, LicenceStatus.VALID),
        (
            licence,
            "revoke",
            {"reason": "违法设置", "case_number": "CF-2026-1"},
            LicenceStatus.REVOKED,
        ),
        (
            other,
            "cancel",
            {"reason": "持证人申请注销", "case_number": "ZX-2026-7"},
            LicenceStatus.CANCELLED,
        ),
    ]
    for target, name, body, expected in steps:
        response = editor.post(action(target, name), body)
        assert response.status_code == 302 and response.url == detail(target)
        assert status_of(target) == expected
        entry = AuditEntry.objects.get(
            action=f"licences.licence.{name}", object_id=str(target.pk)
        )
        assert entry.actor == world.editor and body["reason"] in entry.changes
    assert "已吊销" in editor.get(detail(licence)).content.decode()
    assert selectors.verify_licence(licence).failed == ["status"]
    last = Licence.objects.get(pk=other.pk).versions.order_by("-number").first()
    assert (last.kind, last.case_number) == (VersionKind.CANCEL, "ZX-2026-7")


def test_a_refused_status_change_shows_why_and_changes_nothing(client_as, world, issue):
    licence = issue()
    editor = client_as(world.editor)
    blank = editor.post(action(licence, "suspend"), {"reason": "  "})
    assert blank.status_code == 400 and "这个字段是必填项" in blank.content.decode()
    illegal = editor.post(action(licence, "reinstate"), {"reason": "恢复"})
    assert illegal.status_code == 409
    assert "该证照当前为“有效”，不能恢复" in illegal.content.decode()
    assert editor.post(action(licence, "destroy"), {"reason": "x"}).status_code == 404
    assert status_of(licence) == LicenceStatus.VALID
    assert not AuditEntry.objects.filter(
        action__in=["licences.licence.suspend", "licences.licence.reinstate"]
    ).exists()


def _issue_form(**changes) -> dict[str, str]:
    form = {
        "holder_id": HOLDER_ID,
        "holder_name": "张三",
        "valid_from": "",
        "valid_until": "",
        "issued_on": "",
        "case_number": "",
        "legacy_number": "旧证0042",
        "field_location": "汇川区上海路1号",
        "field_area": "12",
        "field_lit": "true",
    }
    form.update(changes)
    return form


def test_a_department_administrator_issues_through_the_form(
    client_as, world, licence_type, holder
):
    response = client_as(world.editor).post(ISSUE, _issue_form())
    licence = Licence.objects.get()
    assert response.status_code == 302 and response.url == detail(licence)
    assert (licence.holder_id, licence.legacy_number) == (HOLDER_ID, "旧证0042")
    assert licence.fields == {"location": "汇川区上海路1号", "area": 12, "lit": True}
    assert str(licence.valid_until) == "2028-12-08"
    assert AuditEntry.objects.filter(
        action="licences.licence.issue", object_id=str(licence.pk)
    ).exists()
    assert selectors.verify_licence(licence).valid


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"holder_id": WRONG_CHECK}, "身份证号码的校验位不正确"),
        ({"field_location": ""}, "这个字段是必填项"),
        ({"field_area": "十二"}, "照面字段“面积（平方米）”应为整数"),
        ({"valid_from": "2026-13-01"}, "有效期起应为日期"),
        ({"valid_until": "2020-01-01"}, "有效期至不能早于有效期起"),
    ],
)
def test_bad_issue_input_shows_the_error_and_issues_nothing(
    client_as, world, licence_type, holder, changes, says
):
    response = client_as(world.editor).post(ISSUE, _issue_form(**changes))
    assert response.status_code == 400 and says in response.content.decode()
    assert not Licence.objects.exists()
    assert not AuditEntry.objects.filter(action="licences.licence.issue").exists()
