"""/api/cases/ with API tokens: the whole lifecycle, idempotent submission, every refusal as a
4xx with a translated reason (never a 500), scoping (an outsider gets 404) and the public lookup."""


import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment
from onewindow.accounts.services import api_token_create
from onewindow.cases import clock, services
from onewindow.cases.choices import CaseStatus
from onewindow.cases.models import Case, CaseEvent
from onewindow.catalogue import services as catalogue
from onewindow.core import workdays
from onewindow.core.testing.concurrency import at_once
from tests.cases.conftest import item_content, make_png

BASE = "/api/cases"
SPECIALS = [
    {"kind": "2", "name": "现场勘察", "max_days": 5, "basis": "《遵义市户外广告设置管理办法》第十条"},
    {"kind": "1", "name": "延长审批", "max_days": 10, "basis": "《中华人民共和国行政许可法》第四十二条"},
]
TWO_REVIEWS = [
    {"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 1},
    {"key": "review", "name": "审查", "kind": "review", "role": "reviewer", "limit_days": 3},
    {"key": "recheck", "name": "复核", "kind": "review", "role": "reviewer", "limit_days": 2},
    {"key": "decide", "name": "决定", "kind": "decide", "role": "approver", "limit_days": 2},
]


class Api:
    """A client of /api/cases/ holding one user's bearer token."""

    def __init__(self, user):
        _token, secret = api_token_create(actor=user, name="接口测试")
        self.user = user
        self.client = Client(headers={"Authorization": f"Bearer {secret}"})

    def get(self, path, **params):
        return self.client.get(f"{BASE}{path}", params)

    def post(self, path, body=None, **headers):
        """A JSON body, or none at all (as `curl -X POST` sends)."""
        return self.client.post(f"{BASE}{path}", "" if body is None else body, content_type="application/json",
                                headers=headers)

    def put(self, path, body):
        return self.client.put(f"{BASE}{path}", body, content_type="application/json")

    def delete(self, path):
        return self.client.delete(f"{BASE}{path}")

    def upload(self, case_id, material_key, seed, *, name="照片.png"):
        file = SimpleUploadedFile(name, make_png(seed), content_type="image/png")
        return self.client.post(f"{BASE}/{case_id}/materials", {"material_key": material_key, "file": file})


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content.decode())
    return response.json()


def refused(response, status, *, field=None, says=None):
    assert response.status_code == status, (response.status_code, response.content.decode())
    body = response.json()
    if field is not None:
        assert body.get("field") == field, body
    if says is not None:
        assert says in body["detail"], body
    return body


@pytest.fixture
def special_item(world, basic, publish):
    """The advertising item with two review steps, a site inspection and an extension in its guide."""
    version = catalogue.item_create(
        actor=world.editor, basic_item=basic, department=world.market,
        content=item_content(special_procedures=SPECIALS, steps=TWO_REVIEWS, result_name="户外广告设置许可证"),
    )
    return type(publish(version).item).objects.get(pk=version.item_id)


@pytest.fixture
def citizen_api(world):
    return Api(world.citizen)


@pytest.fixture
def clerk_api(world):
    return Api(world.clerk)


@pytest.fixture
def draft(citizen_api, item):
    """draft() → the id of a draft through the API with the form filled in and every required
    material attached."""
    seeds = iter(range(1, 10_000))

    def make():
        case = ok(citizen_api.post("/", {"impl_code": item.impl_code}), 201)
        ok(citizen_api.put(f"/{case['id']}/form", {"form_data": {"location": "红花岗区中华南路88号"}}))
        for key in ("application", "site_photos"):
            ok(citizen_api.upload(case["id"], key, next(seeds)), 201)
        return case["id"]

    return make


@pytest.fixture
def submitted(citizen_api, draft):
    case_id = draft()
    return ok(citizen_api.post(f"/{case_id}/submit", {"idempotency_key": f"api-key-{case_id:06d}"}))


def test_the_whole_lifecycle_through_the_api(world, item, citizen_api, clerk_api, reviewer, approver):
    today = timezone.localdate()
    draft = ok(citizen_api.post("/", {"impl_code": item.impl_code.lower()}), 201)
    assert (draft["status"], draft["number"], draft["item"]["impl_code"]) == ("draft", None, item.impl_code)
    assert draft["department"]["uscc"] == world.market.uscc and draft["remaining_days"] is None
    case_id = draft["id"]
    ok(citizen_api.put(f"/{case_id}/form", {"form_data": {"location": "红花岗区中华南路88号"}}))
    application = ok(citizen_api.upload(case_id, "application", 1, name="申请表.png"), 201)
    assert application["name"] == "户外广告设置申请表" and application["file"]["name"] == "申请表.png"
    ok(citizen_api.upload(case_id, "site_photos", 2), 201)
    extra = ok(citizen_api.upload(case_id, "site_photos", 3), 201)
    assert len(ok(citizen_api.get(f"/{case_id}/materials"))) == 3
    assert ok(citizen_api.delete(f"/{case_id}/materials/{extra['id']}"))["status"] == "draft"
    assert [m["material_key"] for m in ok(citizen_api.get(f"/{case_id}/materials"))] == ["application", "site_photos"]

    case = ok(citizen_api.post(f"/{case_id}/submit", **{"Idempotency-Key": "mobile-0001-abcd"}))
    assert case["status"] == "submitted" and case["number"].startswith(item.impl_code)
    assert case["acceptance_due"] == str(workdays.add_working_days(today, 5).date)
    assert case["remaining_days"] == clock.remaining_days(workdays.add_working_days(today, 5).date, today=today)
    assert [c["id"] for c in ok(citizen_api.get("/"))["items"]] == [case_id]

    queue = ok(clerk_api.get("/workbench/acceptance"))
    assert [c["number"] for c in queue["items"]] == [case["number"]]
    assert ok(clerk_api.get("/workbench/counters"))["acceptance"] == 1
    case = ok(clerk_api.post(f"/{case_id}/accept"))
    promised = workdays.add_working_days(today, 8).date
    assert (case["status"], case["promised_due"]) == ("in_review", str(promised))
    assert case["legal_due"] == str(workdays.add_working_days(today, 20).date)
    assert case["remaining_days"] == clock.remaining_days(promised, today=today)

    reviewer_api, approver_api = Api(reviewer), Api(approver)
    pool = ok(reviewer_api.get("/workbench/steps"))
    assert [(s["step"]["key"], s["case"]["id"]) for s in pool["items"]] == [("review", case_id)]
    review_id = pool["items"][0]["step"]["id"]
    claimed = ok(reviewer_api.post(f"/{case_id}/claim", {"step_id": review_id}))
    assert claimed["step"]["status"] == "claimed" and claimed["step"]["assignee"]["id"] == reviewer.pk
    assert ok(reviewer_api.get("/workbench/steps", mine="true"))["total"] == 1
    passed = ok(reviewer_api.post(f"/{case_id}/pass", {"opinion": "材料齐全，符合设置规划。", "step_id": review_id}))
    decide_id = passed["step"]["id"]
    assert passed["step"]["key"] == "decide" and passed["case"]["status"] == "in_review"
    case = ok(approver_api.post(f"/{case_id}/decide", {"decision": "approved", "opinion": "准予设置。",
                                                       "step_id": decide_id}))
    assert (case["status"], case["decision"], case["decision_label"]) == ("decided", "approved", "准予许可")
    assert case["result_number"]
    case = ok(clerk_api.post(f"/{case_id}/complete"))
    assert case["status"] == "completed" and case["completed_at"]
    case = ok(clerk_api.post(f"/{case_id}/deliver", {"method": "post", "address": "遵义市汇川区上海路1号",
                                                     "recipient": "张三", "carrier": "中国邮政EMS",
                                                     "tracking_number": "1180000000001"}))
    assert (case["status"], case["delivery_method"], case["tracking_number"]) == ("delivered", "post", "1180000000001")
    archived = ok(clerk_api.post(f"/{case_id}/archive"))
    assert archived["case"]["status"] == "archived" and len(archived["archive"]["manifest_sha256"]) == 64

    detail = ok(citizen_api.get(f"/{case_id}"))
    assert detail["form_data"]["location"] == "红花岗区中华南路88号" and detail["open_step"] is None
    assert [(s["key"], s["status_code"], s["outcome"]) for s in detail["steps"]] == [
        ("accept", "2", "pass"), ("review", "2", "pass"), ("decide", "2", "pass")]
    assert detail["steps"][1]["opinion"] == "材料齐全，符合设置规划。"
    assert [d["kind"] for d in detail["documents"]] == ["receipt", "acceptance", "approval"]
    assert [e["action"] for e in detail["timeline"]] == [
        "start", "submit", "accept", "claim", "pass_step", "decide", "complete", "deliver", "archive"]
    assert detail["timeline"][2]["action_label"] == "受理" and detail["timeline"][2]["to_status_label"] == "审查中"
    assert len(detail["materials"]) == 2


def test_the_public_progress_lookup_needs_number_and_code_and_shows_no_personal_data(world, submitted):
    world.citizen.real_name = "王小明"
    world.citizen.save(update_fields=["real_name"])
    anonymous = Client()
    path = f"{BASE}/progress"
    body = ok(anonymous.get(path, {"number": submitted["number"], "query_code": submitted["query_code"].lower()}))
    assert (body["number"], body["status_label"]) == (submitted["number"], "待受理")
    text = str(body)
    assert "王小明" not in text and world.citizen.username not in text and "applicant" not in body
    refused(anonymous.get(path, {"number": submitted["number"], "query_code": "ZZZZZZ"}), 404,
            says="办件编号或查询码不正确")
    assert anonymous.get(path, {"number": submitted["number"]}).status_code == 422


def test_the_progress_lookup_shows_the_steps_in_one_statement(world, submitted, django_assert_num_queries,
                                                             monkeypatch):
    case = Case.objects.get(number=submitted["number"])
    services.case_accept(actor=world.clerk, case=case)
    # The calendar is loaded now and not checked again during the lookup: its once-a-second
    # check would otherwise add a statement whenever the lookup starts a second after the load.
    monkeypatch.setattr(workdays, "RECHECK_SECONDS", 3600.0)
    workdays.forget_cache()
    workdays.is_working_day(timezone.localdate())
    with django_assert_num_queries(1):
        body = ok(Client().get(f"{BASE}/progress", {"number": case.number, "query_code": case.query_code}))
    assert (body["status"], body["item"]["impl_code"], body["department_name"]) == (
        "in_review", case.item.impl_code, case.department.name)
    assert [(step["status"], step["status_label"]) for step in body["steps"]] == [("done", "已办"), ("waiting", "待认领")]
    assert body["steps"][0]["finished_at"] and body["steps"][1]["finished_at"] is None
    assert isinstance(body["remaining_days"], int)


def test_a_retried_submission_returns_the_same_case(world, citizen_api, draft):
    case_id = draft()
    first = ok(citizen_api.post(f"/{case_id}/submit", {"idempotency_key": "retry-0001-abcd"}))
    again = ok(citizen_api.post(f"/{case_id}/submit", {"idempotency_key": "retry-0001-abcd"}))
    header = ok(citizen_api.post(f"/{case_id}/submit", **{"Idempotency-Key": "retry-0001-abcd"}))
    assert first["number"] == again["number"] == header["number"] and first["status"] == "submitted"
    assert Case.objects.filter(applicant=world.citizen).exclude(number=None).count() == 1
    assert CaseEvent.objects.filter(case_id=case_id, action="submit").count() == 1
    other = draft()
    refused(citizen_api.post(f"/{other}/submit", {"idempotency_key": "retry-0001-abcd"}), 409,
            field="idempotency_key", says="另一件申请")
    refused(citizen_api.post(f"/{other}/submit", {"idempotency_key": "retry-0002-abcd"},
                             **{"Idempotency-Key": "retry-0003-abcd"}), 400, field="idempotency_key")
    refused(citizen_api.post(f"/{other}/submit"), 400, field="idempotency_key", says="幂等键")
    assert Case.objects.get(pk=other).status == CaseStatus.DRAFT


def test_a_submission_reads_its_case_once_before_it_locks_it(citizen_api, draft):
    case_id = draft()
    case_reads: list[str] = []

    def capture(execute, sql, params, many, context):
        if sql.startswith("SELECT") and ' FROM "cases_case" ' in sql:
            case_reads.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        ok(citizen_api.post(f"/{case_id}/submit", **{"Idempotency-Key": "one-read-0001"}))

    # The applicant's case read whole (scoped), then its own row under the lock.
    assert len(case_reads) == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_retries_with_one_key_both_get_the_case(world, item, citizen_api, draft):
    case_id = draft()
    responses = at_once([lambda: citizen_api.post(f"/{case_id}/submit", **{"Idempotency-Key": "race-0001-abcd"})] * 2)
    results = [(response.status_code, response.json().get("number")) for response in responses]
    number = Case.objects.get(pk=case_id).number
    assert results == [(200, number), (200, number)]
    assert CaseEvent.objects.filter(case_id=case_id, action="submit").count() == 1


def test_an_illegal_action_is_409_with_the_reason_and_changes_nothing(world, submitted, citizen_api, clerk_api):
    case_id = submitted["id"]
    ok(clerk_api.post(f"/{case_id}/accept"))
    refused(clerk_api.post(f"/{case_id}/accept"), 409, says="该办件当前为“审查中”，不能受理。")
    refused(clerk_api.post(f"/{case_id}/complete"), 409, says="不能办结")
    refused(citizen_api.put(f"/{case_id}/form", {"form_data": {"location": "别处"}}), 409, says="不能修改申请")
    refused(citizen_api.post(f"/{case_id}/supply"), 409)
    refused(clerk_api.post(f"/{case_id}/archive"), 409)
    case = Case.objects.get(pk=case_id)
    assert case.status == CaseStatus.IN_REVIEW and case.form_data["location"] == "红花岗区中华南路88号"
    ok(citizen_api.post(f"/{case_id}/withdraw", {"reason": "暂不设置"}))
    refused(citizen_api.post(f"/{case_id}/withdraw", {"reason": "再撤一次"}), 409, says="已撤回")


def test_outsiders_get_404_and_never_the_data(world, submitted, make_user, other_clerk):
    stranger = Api(make_user("stranger", kind=AccountKind.CITIZEN))
    other = Api(other_clerk)
    case_id = submitted["id"]
    for api in (stranger, other):
        for response in (
            api.get(f"/{case_id}"),
            api.get(f"/{case_id}/materials"),
            api.post(f"/{case_id}/withdraw", {"reason": "不办了"}),
            api.post(f"/{case_id}/accept"),
            api.post(f"/{case_id}/submit", {"idempotency_key": "outsider-0001"}),
            api.delete(f"/{case_id}/materials/1"),
        ):
            body = refused(response, 404, says="没有找到该办件")
            assert submitted["number"] not in str(body)
        assert ok(api.get("/"))["total"] == 0
        assert ok(api.get("/workbench/acceptance"))["total"] == 0
    refused(Api(world.clerk).get("/99999999"), 404)
    assert Case.objects.get(pk=case_id).status == CaseStatus.SUBMITTED


def test_the_applicant_cannot_take_staff_actions(world, submitted, citizen_api, clerk_api, reviewer, approver):
    case_id = submitted["id"]
    refused(citizen_api.post(f"/{case_id}/accept"), 403, says="您没有权限受理")
    refused(citizen_api.post(f"/{case_id}/refuse", {"reasons": "自己拒绝", "basis": "无"}), 403)
    refused(citizen_api.post(f"/{case_id}/request-supplement",
                             {"missing": [{"material_key": "", "reason": "补"}]}), 403)
    refused(citizen_api.post(f"/{case_id}/visits"), 403)
    refused(citizen_api.post("/window", {"impl_code": submitted["item"]["impl_code"], "id_number": "x",
                                         "real_name": "y"}), 403)
    ok(clerk_api.post(f"/{case_id}/accept"))
    for path, body in ((f"/{case_id}/claim", None), (f"/{case_id}/pass", {"opinion": "自己通过"}),
                       (f"/{case_id}/decide", {"decision": "approved", "opinion": "自己批准"}),
                       (f"/{case_id}/special/start", {"name": "现场勘察", "reason": "想暂停"}),
                       (f"/{case_id}/extend", {"days": 3, "reason": "想延长"})):
        refused(citizen_api.post(path, body), 403)
    refused(Api(reviewer).post(f"/{case_id}/decide", {"decision": "approved", "opinion": "越权"}), 409,
            says="尚未进入决定环节")
    refused(Api(approver).post(f"/{case_id}/pass", {"opinion": "越权"}), 403)
    assert ok(citizen_api.get("/workbench/steps"))["total"] == 0
    assert ok(citizen_api.get("/workbench/counters"))["total"] == 0
    assert Case.objects.get(pk=case_id).steps.count() == 2


def test_without_a_valid_token_401(submitted):
    anonymous = Client()
    for response in (anonymous.get(f"{BASE}/"), anonymous.get(f"{BASE}/{submitted['id']}"),
                     anonymous.post(f"{BASE}/{submitted['id']}/accept", "", content_type="application/json"),
                     Client(headers={"Authorization": "Bearer ow_notavalidtokenatall0000"}).get(f"{BASE}/")):
        refused(response, 401, says="请先登录")


def test_bad_input_is_400_naming_the_field_and_changes_nothing(world, item, citizen_api, clerk_api, draft):
    refused(citizen_api.post("/", {"impl_code": "NOSUCHITEM"}), 404, says="没有找到该事项")
    refused(citizen_api.post("/", {"impl_code": "bad code!"}), 404)
    case_id = draft()
    refused(citizen_api.put(f"/{case_id}/form", {"form_data": {"salary": "100"}}), 400, field="form_data",
            says="没有这些字段")
    refused(citizen_api.upload(case_id, "passport", 50), 400, field="material_key", says="没有这项材料")
    refused(citizen_api.client.post(f"{BASE}/{case_id}/materials", {"material_key": "application"}), 400,
            field="file", says="请选择要上传的文件")
    refused(citizen_api.client.post(f"{BASE}/{case_id}/materials",
                                    {"material_key": "application", "licence_number": "L1"}), 400,
            field="licence_number", says="不能用电子证照替代")
    bogus = SimpleUploadedFile("申请表.png", b"not a picture at all", content_type="image/png")
    refused(citizen_api.client.post(f"{BASE}/{case_id}/materials", {"material_key": "application", "file": bogus}),
            400, field="file")
    refused(citizen_api.post(f"/{case_id}/submit", {"idempotency_key": "short"}), 400, field="idempotency_key")
    refused(citizen_api.post(f"/{case_id}/submit", {"idempotency_key": "key-deferral-01", "deferral": ["nope"]}),
            400, field="deferral")
    refused(citizen_api.post(f"/{case_id}/withdraw", {"reason": "  "}), 400, field="reason", says="撤回须写明原因")
    assert Case.objects.get(pk=case_id).status == CaseStatus.DRAFT
    assert Case.objects.get(pk=case_id).materials.count() == 2

    case = ok(citizen_api.post(f"/{case_id}/submit", {"idempotency_key": "key-bad-input-01"}))
    refused(clerk_api.post(f"/{case_id}/refuse", {"reasons": "不属于本机关职权范围"}), 400, field="basis")
    refused(clerk_api.post(f"/{case_id}/request-supplement", {"missing": []}), 400, field="missing")
    refused(clerk_api.post(f"/{case_id}/request-supplement",
                           {"missing": [{"material_key": "passport", "reason": "补"}]}), 400, field="missing")
    assert Case.objects.get(pk=case_id).status == CaseStatus.SUBMITTED
    # Text no database can store is refused before any handler sees it.
    for response in (
        citizen_api.put(f"/{case_id}/form", {"form_data": {"location": "a\x00b"}}),
        citizen_api.post(f"/{case_id}/withdraw", {"reason": "nul\x00"}),
    ):
        assert response.status_code == 400, response.content
    # Malformed requests are refused by the schema.
    for response in (
        citizen_api.get(f"/{2**70}"),
        clerk_api.post(f"/{case_id}/accept", {"deferred_due": "not a date"}),
        clerk_api.post(f"/{case_id}/transfer", {"to_user_id": 0, "reason": "x"}),
        clerk_api.post(f"/{case_id}/request-supplement", {"missing": [{"material_key": ["a"], "reason": "b"}]}),
    ):
        assert response.status_code == 422, response.content
    assert case["status"] == "submitted"


def test_one_time_notice_then_supply_through_the_api(world, submitted, citizen_api, clerk_api):
    case_id = submitted["id"]
    result = ok(clerk_api.post(f"/{case_id}/request-supplement", {
        "missing": [{"material_key": "site_photos", "reason": "照片须显示设置地点全貌"},
                    {"material_key": "", "reason": "申请表须写明门牌号"}],
        "note": "请一次补齐"}))
    assert result["case"]["status"] == "supplement" and not result["notice"]["repeated"]
    assert [m["name"] for m in result["notice"]["missing"]] == ["设置地点现状照片", ""]
    detail = ok(citizen_api.get(f"/{case_id}"))
    assert detail["supplement_notices"][0]["missing"][0]["reason"] == "照片须显示设置地点全貌"
    ok(citizen_api.upload(case_id, "site_photos", 77), 201)
    ok(citizen_api.put(f"/{case_id}/form", {"form_data": {"location": "红花岗区中华南路88号附1号"}}))
    assert ok(citizen_api.post(f"/{case_id}/supply"))["status"] == "submitted"
    assert ok(clerk_api.post(f"/{case_id}/refuse", {"reasons": "不符合设置规划", "basis": "《城市市容和环境卫生管理条例》第十一条"})
              )["status"] == "not_accepted"
    assert ok(clerk_api.post(f"/{case_id}/archive"))["case"]["status"] == "archived"


def test_steps_special_procedures_extension_and_stale_pages(world, special_item, citizen_api, clerk_api, reviewer,
                                                            approver, make_user):
    case = ok(citizen_api.post("/", {"impl_code": special_item.impl_code}), 201)
    case_id = case["id"]
    ok(citizen_api.put(f"/{case_id}/form", {"form_data": {"location": "遵义市"}}))
    ok(citizen_api.upload(case_id, "application", 201), 201)
    ok(citizen_api.upload(case_id, "site_photos", 202), 201)
    ok(citizen_api.post(f"/{case_id}/submit", {"idempotency_key": "special-0001"}))
    ok(clerk_api.post(f"/{case_id}/accept"))
    reviewer_api, approver_api = Api(reviewer), Api(approver)
    second = make_user("reviewer2", kind=AccountKind.STAFF, otp=True, real_name="周审")
    RoleAssignment.objects.create(user=second, role=Role.REVIEWER, department=world.market)
    second_api = Api(second)

    review_id = ok(reviewer_api.get("/workbench/steps"))["items"][0]["step"]["id"]
    ok(reviewer_api.post(f"/{case_id}/claim", {"step_id": review_id}))
    refused(second_api.post(f"/{case_id}/claim", {"step_id": review_id}), 409, says="已被")
    moved = ok(reviewer_api.post(f"/{case_id}/transfer", {"to_user_id": second.pk, "reason": "休假",
                                                           "step_id": review_id}))
    assert moved["step"]["assignee"]["id"] == second.pk
    refused(reviewer_api.post(f"/{case_id}/transfer", {"to_user_id": world.citizen.pk, "reason": "给申请人"}), 400,
            field="to_user_id")
    recheck = ok(second_api.post(f"/{case_id}/pass", {"opinion": "初审通过", "step_id": review_id}))["step"]
    assert recheck["key"] == "recheck"
    refused(reviewer_api.post(f"/{case_id}/pass", {"opinion": "旧页面", "step_id": review_id}), 409,
            says="该环节已由他人办理")
    refused(reviewer_api.post(f"/{case_id}/pass", {"opinion": "别的办件", "step_id": 987654321}), 404,
            says="没有找到该环节")
    refused(reviewer_api.post(f"/{case_id}/return", {"to_key": "accept", "reason": "退回受理"}), 400, field="to_key")
    back = ok(reviewer_api.post(f"/{case_id}/return", {"to_key": "review", "reason": "照片不清", "step_id": recheck["id"]}))
    assert back["step"]["key"] == "review" and back["step"]["status"] == "waiting"

    refused(reviewer_api.post(f"/{case_id}/special/start", {"name": "听证", "reason": "需要听证"}), 400, field="name")
    refused(reviewer_api.post(f"/{case_id}/special/start", {"name": "现场勘察", "reason": "旧页面",
                                                            "step_id": recheck["id"]}), 409, says="该环节已由他人办理")
    started = ok(reviewer_api.post(f"/{case_id}/special/start", {"name": "现场勘察", "reason": "核实设置地点",
                                                                  "step_id": back["step"]["id"]}))
    assert started["case"]["status"] == "special" and started["case"]["urgency"] == "paused"
    assert started["procedure"]["kind"] == "2" and started["procedure"]["ended_at"] is None
    refused(reviewer_api.post(f"/{case_id}/pass", {"opinion": "暂停中"}), 409, says="特别程序中")
    ended = ok(reviewer_api.post(f"/{case_id}/special/end", {"result": "实地核查符合"}))
    assert ended["case"]["status"] == "in_review" and ended["procedure"]["days_used"] == 0

    refused(approver_api.post(f"/{case_id}/extend", {"days": 11, "reason": "复杂"}), 400, field="days")
    extended = ok(approver_api.post(f"/{case_id}/extend", {"days": 3, "reason": "需征求规划部门意见"}))
    promised = workdays.add_working_days(timezone.localdate(), 8 + 3).date
    assert extended["case"]["extension_days"] == 3 and extended["case"]["promised_due"] == str(promised)
    refused(approver_api.post(f"/{case_id}/extend", {"days": "three", "reason": "x"}), 422)

    ok(reviewer_api.post(f"/{case_id}/pass", {"opinion": "复审通过"}))
    ok(reviewer_api.post(f"/{case_id}/pass", {"opinion": "复核通过"}))
    refused(approver_api.post(f"/{case_id}/decide", {"decision": "denied", "reasons": "位于禁设区域"}), 400,
            field="basis")
    refused(approver_api.post(f"/{case_id}/decide", {"decision": "maybe"}), 400, field="decision")
    denied = ok(approver_api.post(f"/{case_id}/decide", {"decision": "denied", "reasons": "位于禁设区域",
                                                         "basis": "《遵义市户外广告设置管理办法》第十条"}))
    assert (denied["status"], denied["decision"]) == ("decided", "denied")
    ok(clerk_api.post(f"/{case_id}/complete"))
    refused(clerk_api.post(f"/{case_id}/deliver", {"method": "electronic"}), 400, field="method", says="不提供")
    refused(clerk_api.post(f"/{case_id}/deliver", {"method": "post", "address": "遵义市"}), 400, field="recipient")
    delivered = ok(clerk_api.post(f"/{case_id}/deliver", {"method": "window"}))
    assert delivered["visits"] == 1
    assert ok(clerk_api.post(f"/{case_id}/visits"))["visits"] == 2
    detail = ok(citizen_api.get(f"/{case_id}"))
    assert [d["kind"] for d in detail["documents"]] == ["receipt", "acceptance", "denial"]
    assert [(p["name"], p["result"]) for p in detail["special_procedures"]] == [
        ("现场勘察", "实地核查符合"), ("延长审批", "延长 3 个工作日")]
    assert [s["key"] for s in detail["steps"]] == ["accept", "review", "recheck", "review", "recheck", "decide"]


def test_window_filing_and_decision_on_the_spot(world, basic, publish, clerk_api):
    from onewindow.core.identifiers import make_id_number
    import datetime as dt

    steps = [{"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 0},
             {"key": "decide", "name": "当场决定", "kind": "decide", "role": "window_clerk", "limit_days": 0}]
    version = catalogue.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                    content=item_content(case_type="1", steps=steps,
                                                         promised_limit={"amount": 0, "unit": "working_day"}))
    item = type(publish(version).item).objects.get(pk=version.item_id)
    world.citizen.real_name = "王小明"
    world.citizen.id_number = make_id_number("520302", dt.date(1975, 3, 8), 21)
    world.citizen.save(update_fields=["real_name", "id_number"])
    refused(clerk_api.post("/window", {"impl_code": item.impl_code, "id_number": world.citizen.id_number,
                                       "real_name": "王小"}), 400, field="id_number")
    case = ok(clerk_api.post("/window", {"impl_code": item.impl_code, "id_number": world.citizen.id_number,
                                         "real_name": "王小明"}), 201)
    assert (case["channel"], case["visits"], case["applicant"]["id"]) == ("window", 1, world.citizen.pk)
    case_id = case["id"]
    ok(clerk_api.put(f"/{case_id}/form", {"form_data": {"location": "遵义市"}}))
    ok(clerk_api.upload(case_id, "application", 301), 201)
    ok(clerk_api.upload(case_id, "site_photos", 302), 201)
    ok(clerk_api.post(f"/{case_id}/submit", {"idempotency_key": "window-0001"}))
    spot = ok(clerk_api.post(f"/{case_id}/decide-on-spot", {"decision": "approved", "opinion": "当场准予"}))
    assert spot["status"] == "completed" and spot["completed_at"]
    assert [c["id"] for c in ok(Api(world.citizen).get("/"))["items"]] == [case_id]


def test_errors_follow_the_callers_language(submitted, clerk_api):
    ok(clerk_api.post(f"/{submitted['id']}/accept"))
    response = clerk_api.post(f"/{submitted['id']}/accept", **{"Accept-Language": "en"})
    assert response.status_code == 409
    chinese = refused(clerk_api.post(f"/{submitted['id']}/accept"), 409)
    assert response.json()["detail"] != chinese["detail"]
