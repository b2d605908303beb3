"""Catalogue import and export: three encodings of one exchange model, every row error reported,
nothing written unless every row is good."""

import copy
import csv
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from ninja import NinjaAPI
from ninja.testing import TestClient

from onewindow.accounts import services as account_services
from onewindow.catalogue import api_exchange, exchange, schema, selectors, services
from onewindow.catalogue.choices import VersionStatus
from onewindow.catalogue.models import BasicItem, ImplementationItem, ItemVersion, Theme
from onewindow.config.api import domain_error
from onewindow.core.errors import DomainError, PermissionDenied
from onewindow.core.models import AuditEntry

from .conftest import STANDARD, item_content

DOCS = Path(__file__).resolve().parents[2] / "docs" / "catalogue-import.md"
THEME = {"code": "outdoor", "name": "户外设施", "audience": "enterprise", "order": 3}


def rich_content(**changes):
    """A guide that uses every kind of column: lists, fees, special procedures, FAQ, a form."""
    return item_content(
        themes=["outdoor"],
        co_implementing=["遵义市公安局、交警支队", "遵义市自然资源局"],  # "、" inside: joined with ";"
        keywords=["广告牌", "招牌"],
        charges_fee=True,
        fees=[{"name": "工本费", "standard": "每件 10 元", "amount": "10.50", "basis": "黔价费〔2020〕1号",
               "reducible": True}],
        special_procedures=[{"kind": "1", "name": "延长审批", "max_days": 10, "basis": "《行政许可法》第四十二条"}],
        faq=[{"question": "需要现场勘察吗？", "answer": "大型广告需要。"}],
        contact={"hall_address": "遵义市政务服务中心二楼", "consult_phone": "0851-12345"},
        notes="=不要当作公式",  # a spreadsheet must keep this as text
        differences={"conditions": "本市另有设置规划。"},
        general_scope="cross_city",
        **changes,
    )


def entry(department, *, content=None, basic_code="XK00127000", impl_code=""):
    content = content if content is not None else item_content()
    return {
        "basic": {"basic_code": basic_code, **{k: STANDARD[k] for k in ("name", "item_type", "exercise_level",
                                                                          "legal_basis")}},
        "department_uscc": department.uscc,
        "impl_code": impl_code,
        "handle_item_code": "",
        "content": content,
    }


def document(*entries, themes=(THEME,)):
    return {"format": "onewindow-catalogue", "version": 1, "themes": list(themes), "items": list(entries)}


def encode(doc, fmt):
    return exchange.write_catalogue(doc, fmt=fmt), f"catalogue.{exchange.EXTENSIONS[fmt]}"


def snapshot():
    return {model.__name__: model.objects.count()
            for model in (Theme, BasicItem, ImplementationItem, ItemVersion, AuditEntry)}


def places(errors):
    return [(e.sheet, e.row, e.column) for e in errors]


def import_(actor, data, filename, *, dry_run=False):
    return exchange.catalogue_import(actor=actor, file=data, filename=filename, dry_run=dry_run)


def normalised(content):
    return schema.content_json(schema.parse_content(content))


# --- spreadsheet helpers ------------------------------------------------------------------------


def edit_xlsx(data, sheet, row, column, value):
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    worksheet = workbook[sheet]
    header_row = next(r for r in worksheet.iter_rows(min_row=1, max_row=10) if any(c.value == "实施编码"
                                                                               or c.value == "主题代码" for c in r))
    header = [cell.value for cell in header_row]
    worksheet.cell(row=row, column=header.index(column) + 1).value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def edit_csv(text, row, column, value):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows[row - 1][rows[0].index(column)] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xlsx", "csv"])
def test_each_encoding_reads_back_the_same_document(world, fmt):
    doc = document(
        entry(world.market, content=rich_content()),
        entry(world.other, content=item_content(form={"fields": []})),
    )
    data, filename = encode(doc, fmt)
    read = exchange.read_catalogue(data, filename=filename)
    assert read.errors == []
    assert read.format == fmt
    expected = copy.deepcopy(doc)
    for item in expected["items"]:
        item["content"] = normalised(item["content"])
        if fmt != "json":  # spreadsheets name child rows by the generated code
            item["impl_code"] = ""
    assert read.exchange() == expected


@pytest.mark.parametrize("fmt", ["json", "xlsx", "csv"])
def test_export_then_import_gives_identical_content(world, fmt):
    report = import_(world.admin, *encode(document(entry(world.market, content=rich_content()),
                                                   entry(world.district)), "json"))
    assert report.written and report.errors == []
    assert (report.themes, report.basic_items_created, report.items_created) == (1, 1, 2)
    stored = {v.item.impl_code: v.content for v in ItemVersion.objects.select_related("item")}

    data, content_type, filename = exchange.export_catalogue(
        actor=world.admin, items=ImplementationItem.objects.all(), fmt=fmt)
    assert content_type == exchange.CONTENT_TYPES[fmt]
    read = exchange.read_catalogue(data, filename=filename)
    assert read.errors == []
    assert {item.impl_code: item.content for item in read.items} == stored

    before = snapshot()
    again = import_(world.admin, data, filename)
    assert again.errors == [] and again.written
    assert (again.items_unchanged, again.items_created, again.items_updated, again.themes) == (2, 0, 0, 0)
    after = snapshot()
    assert after["ItemVersion"] == before["ItemVersion"]
    assert after["AuditEntry"] == before["AuditEntry"] + 1  # only the import's own entry


def test_public_export_has_published_versions_only(world, basic, publish):
    published = services.item_create(actor=world.editor, basic_item=basic, department=world.market,
                                      content=item_content())
    publish(published)
    services.version_new_draft(actor=world.editor, item=published.item)
    services.version_update(actor=world.editor, version=published.item.versions.get(number=2),
                            content=item_content(notes="草稿中的修改"))
    services.item_create(actor=world.outsider, basic_item=basic, department=world.other, content=item_content())

    public = json.loads(exchange.export_catalogue(actor=None, items=selectors.published_items(), fmt="json")[0])
    assert [item["impl_code"] for item in public["items"]] == [published.item.impl_code]
    assert public["items"][0]["content"]["notes"] == ""
    staff = json.loads(exchange.export_catalogue(actor=world.editor, items=selectors.editable_items(world.editor),
                                                 fmt="json")[0])
    assert [item["content"]["notes"] for item in staff["items"]] == ["草稿中的修改"]


def test_spreadsheet_cells_take_codes_or_labels_and_both_separators(world):
    data, filename = encode(document(entry(world.market)), "xlsx")
    data = edit_xlsx(data, "事项", 2, "事项类型", "01")
    data = edit_xlsx(data, "事项", 2, "办理形式", "窗口办理;电脑端网上办理")
    data = edit_xlsx(data, "事项", 2, "服务对象", "1、企业法人")
    data = edit_xlsx(data, "事项", 2, "到办事现场次数", 1)
    data = edit_xlsx(data, "申请材料", 2, "必要", "是")
    read = exchange.read_catalogue(data, filename=filename)
    assert read.errors == []
    content = read.items[0].content
    assert (content["item_type"], content["handling_forms"], content["service_objects"], content["visits"]) == (
        "01", ["1", "2"], ["1", "2"], 1)


def test_csv_text_that_looks_like_a_formula_is_escaped_and_restored(world):
    data, _filename = encode(document(entry(world.market, content=rich_content())), "csv")
    items_csv = csv_members(data)["事项.csv"].decode("utf-8-sig")
    assert ",'=不要当作公式," in items_csv
    xlsx, _name = encode(document(entry(world.market, content=rich_content())), "xlsx")
    cell = openpyxl.load_workbook(io.BytesIO(xlsx))["事项"]
    notes = [c for c in cell[2] if c.value == "=不要当作公式"]
    assert notes and notes[0].data_type == "s"


def test_csv_zip_in_gb18030_with_windows_member_names(world):
    doc = document(entry(world.market, content=rich_content()))
    members = csv_members(encode(doc, "csv")[0])
    # Excel on Chinese Windows saves CSV as GBK/GB18030 without BOM, and Windows' zip writes the
    # member names in the same code page without the UTF-8 flag.
    text = members.pop("事项.csv").decode("utf-8-sig")
    placeholder = "xxxx.csv"
    assert len("事项.csv".encode("gbk")) == len(placeholder)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(placeholder, text.encode("gb18030"))
        for name, content in members.items():
            archive.writestr(name, content)
    data = buffer.getvalue().replace(placeholder.encode(), "事项.csv".encode("gbk"))
    read = exchange.read_catalogue(data, filename="目录.zip")
    assert read.errors == []
    assert read.items[0].content == normalised(rich_content())


def test_a_single_items_csv_is_read_and_checked(world):
    members = csv_members(encode(document(entry(world.market)), "csv")[0])
    data = members["事项.csv"]
    read = exchange.read_catalogue(data, filename="事项.csv")
    # Without the 办理流程 sheet an item has no steps, which a guide needs.
    assert [str(e) for e in read.errors] == ["事项 第2行「办理流程」：必须填写。"]
    themes = exchange.read_catalogue(members["服务主题.csv"].decode("utf-8-sig").encode("gb18030"),
                                     filename="服务主题.csv")
    assert themes.errors == [] and [t.code for t in themes.themes] == ["outdoor"]


# --- every error, nothing written ------------------------------------------------------------------


def bad_workbook(world):
    """Four items with one problem each (and one good item), as a workbook."""
    doc = document(
        entry(world.market),
        entry(world.other),
        entry(world.district),
        entry(world.market, basic_code="XK00128000"),
        entry(world.other, basic_code="XK00128000"),
    )
    data, filename = encode(doc, "xlsx")
    data = edit_xlsx(data, "事项", 2, "受理条件", None)
    data = edit_xlsx(data, "事项", 3, "承诺办结时限", 30)
    data = edit_xlsx(data, "事项", 4, "事项类型", "行政许可证")
    data = edit_xlsx(data, "申请材料", 9, "材料名称", "")  # the 4th item's first material
    data = edit_xlsx(data, "事项", 6, "服务主题", "outdoor、nosuch")  # checked against the database
    return data, filename


def test_dry_run_reports_every_bad_row_and_writes_nothing(world):
    data, filename = bad_workbook(world)
    before = snapshot()
    report = import_(world.admin, data, filename, dry_run=True)
    assert snapshot() == before
    assert not report.written and report.dry_run
    assert places(report.errors) == [
        ("事项", 2, "受理条件"),
        ("事项", 3, ""),
        ("事项", 4, "事项类型"),
        ("事项", 6, "服务主题"),
        ("申请材料", 9, "材料名称"),
    ]
    texts = [str(e) for e in report.errors]
    assert texts[0] == "事项 第2行「受理条件」：必须填写。"
    assert texts[1] == "事项 第3行：承诺办结时限（30）不能超过法定办结时限（20）。"
    assert "“行政许可证”不在代码表中" in texts[2] and "01 行政许可" in texts[2]
    assert texts[3] == "事项 第6行「服务主题」：服务主题代码“nosuch”不存在。"
    assert texts[4] == "申请材料 第9行「材料名称」：必须填写。"


def test_a_real_run_with_one_bad_row_writes_nothing(world):
    doc = document(entry(world.market), entry(world.other, content=item_content(steps=[])))
    before = snapshot()
    report = import_(world.admin, *encode(doc, "json"))
    assert not report.written
    assert [str(e) for e in report.errors] == ["事项 第2项 办理流程：至少需要 2 个字符（项）。"]
    assert snapshot() == before
    assert not AuditEntry.objects.filter(action="catalogue.import").exists()


def test_a_dry_run_of_a_good_file_counts_what_it_would_do(world):
    before = snapshot()
    report = import_(world.admin, *encode(document(entry(world.market), entry(world.other)), "xlsx"), dry_run=True)
    assert report.errors == [] and not report.written
    assert (report.rows, report.themes, report.basic_items_created, report.items_created) == (15, 1, 1, 2)
    assert snapshot() == before


def test_rows_of_unknown_items_and_unknown_columns_are_reported(world):
    data, filename = encode(document(entry(world.market)), "xlsx")
    data = edit_xlsx(data, "办理流程", 3, "实施编码", "NOSUCHCODE")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook["事项"].cell(row=1, column=60, value="备注")
    workbook.create_sheet("说明")["A1"] = "填表说明"
    out = io.BytesIO()
    workbook.save(out)
    read = exchange.read_catalogue(out.getvalue(), filename=filename)
    texts = [str(e) for e in read.errors]
    assert "事项 第1行「备注」：不是可识别的列名。" in texts
    assert "办理流程 第3行「实施编码」：事项表中没有实施编码为“NOSUCHCODE”的事项。" in texts
    assert any(e.sheet == "说明" and "不是可导入的工作表" in e.message for e in read.errors)


def test_title_rows_above_the_header_and_empty_default_sheets_are_allowed(world):
    data, filename = encode(document(entry(world.market)), "xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    workbook["事项"].insert_rows(1, amount=2)
    workbook["事项"]["A1"] = "遵义市政务服务事项实施清单（2026年版）"
    workbook.create_sheet("Sheet1")
    out = io.BytesIO()
    workbook.save(out)
    read = exchange.read_catalogue(out.getvalue(), filename=filename)
    assert read.errors == [] and len(read.items) == 1
    bad = edit_xlsx(out.getvalue(), "事项", 4, "受理条件", None)  # row numbers are still the sheet's
    assert [str(e) for e in exchange.read_catalogue(bad, filename=filename).errors] == [
        "事项 第4行「受理条件」：必须填写。"
    ]


# --- who may import what ---------------------------------------------------------------------------


def test_department_admin_cannot_import_another_departments_row(world, basic):
    doc = document(entry(world.market), entry(world.other), themes=())
    before = snapshot()
    report = import_(world.editor, *encode(doc, "xlsx"))
    assert not report.written
    assert [str(e) for e in report.errors] == [
        "事项 第3行「实施主体统一社会信用代码」：您不是“遵义市民政局”的部门管理员，不能导入该部门的事项。"
    ]
    assert snapshot() == before
    ok = import_(world.editor, *encode(document(entry(world.market), themes=()), "xlsx"))
    assert ok.written and ok.items_created == 1


def test_department_admin_cannot_extend_the_basic_catalogue_or_themes(world, basic):
    report = import_(world.editor, *encode(document(entry(world.market, basic_code="XK00128000")), "json"))
    assert [str(e) for e in report.errors] == [
        "事项 第1项 基本编码：基本目录中没有基本编码 XK00128000：只有平台管理员可以维护基本目录。",
        "服务主题 第1项 主题代码：服务主题“outdoor”不存在；只有平台管理员可以新增服务主题。",
    ]
    themed = document(entry(world.market, content=item_content(themes=["outdoor"])), themes=())
    assert [str(e) for e in import_(world.editor, *encode(themed, "json")).errors] == [
        "事项 第1项 服务主题：服务主题代码“outdoor”不存在。"
    ]
    Theme.objects.create(**THEME)
    report = import_(world.editor, *encode(document(entry(world.market, content=item_content(themes=["outdoor"]))),
                                           "json"))
    assert report.written and report.themes == 0


@pytest.mark.parametrize("who", ["clerk", "citizen", "legal"])
def test_only_administrators_import(world, who):
    with pytest.raises(PermissionDenied):
        import_(getattr(world, who), *encode(document(entry(world.market)), "json"))


# --- existing items ------------------------------------------------------------------------------


def test_reimporting_a_published_item_makes_a_new_draft(world, basic, publish):
    first = services.item_create(actor=world.editor, basic_item=basic, department=world.market, content=item_content())
    publish(first)
    item = first.item
    changed = item_content(notes="新增：节假日不受理。")
    data, filename = encode(document(entry(world.market, content=changed, impl_code=item.impl_code), themes=()), "xlsx")
    report = import_(world.editor, data, filename)
    assert report.written and report.items_updated == 1
    item.refresh_from_db()
    draft = item.versions.get(number=2)
    assert draft.status == VersionStatus.DRAFT
    assert draft.content == normalised(changed)
    assert item.current_version_id == first.pk  # the published version stays until the draft is published
    assert "批量导入" in draft.change_note

    entry_ = AuditEntry.objects.get(action="catalogue.import")
    after = json.loads(entry_.changes)["after"]
    assert after["filename"] == filename
    assert after["sha256"] == report.sha256 and len(report.sha256) == 64
    assert after["counts"]["items_updated"] == 1
    assert entry_.actor_id == world.editor.pk

    # A second change while that draft is open is refused, for that row.
    again = import_(world.editor, *encode(document(entry(world.market, content=item_content(notes="再改")),
                                                   themes=()), "json"))
    assert not again.written
    assert [e.message for e in again.errors] == ["该事项已有一个正在编辑或审核的版本，请在该版本上继续。"]


# --- bad files -------------------------------------------------------------------------------------


def zip_of(**members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"", "a.xlsx", "文件是空的"),
    (b"PK\x03\x04garbage", "a.xlsx", "压缩文件已损坏"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.xls", ".xls"),
    (b"not a workbook", "a.xlsx", "文件已损坏"),
    (zip_of(**{"[Content_Types].xml": "<Types/>"}), "a.xlsx", "不是有效的 Excel"),
    (b"{\"format\": \"onewindow-catalogue\", ", "a.json", "JSON 格式有误"),
    (b"[" * 100_000, "a.json", "JSON 格式有误"),
    (b"{\"format\": \"other\"}", "a.json", "format 应为"),
    (b"{\"format\": \"onewindow-catalogue\", \"version\": 2}", "a.json", "不支持的目录文件版本"),
    ("\ufeff实施编码\r\n".encode("utf-16"), "a.csv", "UTF-16"),
    (b"\x81\x30", "a.csv", "无法识别文件的字符编码"),
    (b'"unterminated\n' + b"x" * 200_000, "a.csv", "格式有误"),
    (zip_of(**{"readme.txt": "hi"}), "a.zip", "不是可导入的工作表"),
])
def test_bad_files_are_refused_with_a_message(world, data, filename, message):
    read = exchange.read_catalogue(data, filename=filename)
    assert read.items == [] and read.errors
    assert message in str(read.errors[0])
    before = snapshot()
    report = import_(world.admin, data, filename)
    assert not report.written and report.errors
    assert snapshot() == before


def test_size_and_row_limits(world, monkeypatch):
    data, filename = encode(document(entry(world.market), entry(world.other)), "csv")
    monkeypatch.setattr(exchange, "MAX_BYTES", len(data) - 1)
    assert "文件超过" in str(exchange.read_catalogue(data, filename=filename).errors[0])
    upload = SimpleUploadedFile("big.zip", data)
    assert "文件超过" in str(import_(world.admin, upload, "big.zip").errors[0])
    monkeypatch.setattr(exchange, "MAX_BYTES", 20 * 1024 * 1024)
    monkeypatch.setattr(exchange, "MAX_ROWS", 5)
    assert "一次最多导入 5 行" in str(exchange.read_catalogue(data, filename=filename).errors[0])


def test_zip_bombs_are_refused(world):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("事项.csv", b"\0" * (20 * 1024 * 1024))
    read = exchange.read_catalogue(buffer.getvalue(), filename="bomb.zip")
    assert "解压后过大" in str(read.errors[0])


# --- the column set ----------------------------------------------------------------------------------


def test_every_content_element_has_a_column():
    """Export must not drop an element: every field of the content schema has a column."""
    paths = {column.path for sheet in exchange.SHEETS for column in sheet.columns}
    for name, info in schema.ItemContent.model_fields.items():
        if name in {sheet.field for sheet in exchange.LIST_SHEETS} | {"form"}:
            continue
        nested = info.annotation if isinstance(info.annotation, type) and issubclass(info.annotation, schema.BaseModel) else None
        if nested is not None:
            for part in nested.model_fields:
                assert ("content", name, part) in paths, (name, part)
        else:
            assert ("content", name) in paths, name
    for sheet in exchange.LIST_SHEETS:
        model = {"materials": schema.Material, "steps": schema.ProcessStep, "fees": schema.Fee,
                 "special_procedures": schema.SpecialProcedure, "faq": schema.Question}[sheet.field]
        assert {("element", part) for part in model.model_fields} <= paths, sheet.field


def test_the_documentation_lists_every_sheet_and_column():
    text = DOCS.read_text(encoding="utf-8")
    for sheet in exchange.SHEETS:
        assert str(sheet.title) in text
        for column in sheet.columns:
            assert str(column.title) in text, (sheet.title, column.title)


# --- API and commands --------------------------------------------------------------------------------


@pytest.fixture
def api_client():
    api = NinjaAPI(urls_namespace="catalogue-exchange-test")
    api.add_exception_handler(DomainError, domain_error)
    api.add_router("/catalogue/", api_exchange.router)
    return TestClient(api)


def bearer(user):
    _token, secret = account_services.api_token_create(actor=user, name="导入脚本")
    return {"Authorization": f"Bearer {secret}"}


def test_api_import_dry_run_and_errors(world, api_client):
    data, filename = encode(document(entry(world.market)), "xlsx")
    before = snapshot()
    headers = bearer(world.admin)
    response = api_client.post("/catalogue/import", data={"dry_run": "true"},
                               FILES={"file": SimpleUploadedFile(filename, data)}, headers=headers)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["items_created"] == 1 and body["dry_run"] and not body["written"]
    assert ImplementationItem.objects.count() == before["ImplementationItem"]

    bad = edit_xlsx(data, "事项", 2, "受理条件", None)
    response = api_client.post("/catalogue/import", FILES={"file": SimpleUploadedFile(filename, bad)}, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["text"] == "事项 第2行「受理条件」：必须填写。"

    response = api_client.post("/catalogue/import", FILES={"file": SimpleUploadedFile(filename, data)}, headers=headers)
    assert response.status_code == 200 and response.json()["written"]
    assert ImplementationItem.objects.count() == before["ImplementationItem"] + 1


def test_the_api_schema_documents_the_endpoints():
    api = NinjaAPI(urls_namespace="catalogue-exchange-schema")
    api.add_router("/catalogue/", api_exchange.router)
    paths = api.get_openapi_schema(path_prefix="")["paths"]
    assert set(paths) == {"/catalogue/import", "/catalogue/export"}
    assert set(paths["/catalogue/import"]["post"]["responses"]) == {200, 400, 401, 403}


def test_api_import_needs_an_administrator(world, api_client):
    data, filename = encode(document(entry(world.market)), "json")
    upload = {"file": SimpleUploadedFile(filename, data)}
    assert api_client.post("/catalogue/import", FILES=upload).status_code == 401
    response = api_client.post("/catalogue/import", FILES={"file": SimpleUploadedFile(filename, data)},
                               headers=bearer(world.clerk))
    assert response.status_code == 403


def test_api_export_is_public_and_published_only(world, basic, publish, api_client):
    publish(services.item_create(actor=world.editor, basic_item=basic, department=world.market, content=item_content()))
    services.item_create(actor=world.outsider, basic_item=basic, department=world.other, content=item_content())
    for fmt in ("json", "xlsx", "csv"):
        response = api_client.get(f"/catalogue/export?format={fmt}")
        assert response.status_code == 200
        assert response["Content-Type"] == exchange.CONTENT_TYPES[fmt]
        assert "attachment" in response["Content-Disposition"]
        read = exchange.read_catalogue(response.content, filename=f"x.{exchange.EXTENSIONS[fmt]}")
        assert read.errors == [] and [item.department_uscc for item in read.items] == [world.market.uscc]
    assert api_client.get("/catalogue/export?format=pdf").status_code == 422


def test_management_commands(world, tmp_path):
    source = tmp_path / "目录.json"
    source.write_bytes(encode(document(entry(world.market), entry(world.other)), "json")[0])
    out = io.StringIO()
    call_command("catalogue_import", str(source), "--dry-run", "--as", world.admin.username, stdout=out)
    assert "试运行" in out.getvalue() and ImplementationItem.objects.count() == 0
    call_command("catalogue_import", str(source), "--as", world.admin.username, stdout=io.StringIO())
    assert ImplementationItem.objects.count() == 2

    target = tmp_path / "export.xlsx"
    call_command("catalogue_export", str(target), "--as", world.admin.username, stdout=io.StringIO())
    read = exchange.read_catalogue(target.read_bytes(), filename=target.name)
    assert read.errors == [] and len(read.items) == 2

    with pytest.raises(CommandError, match="--as"):
        call_command("catalogue_import", str(source), stdout=io.StringIO())
    bad = tmp_path / "bad.json"
    bad.write_bytes(encode(document(entry(world.district, content=item_content(steps=[]))), "json")[0])
    err = io.StringIO()
    with pytest.raises(CommandError, match="未写入任何内容"):
        call_command("catalogue_import", str(bad), "--as", world.admin.username, stdout=io.StringIO(), stderr=err)
    with pytest.raises(CommandError, match=".zip"):
        call_command("catalogue_export", str(tmp_path / "x.csv"), "--format", "csv", stdout=io.StringIO())
