"""Catalogue import and export over the API (mounted on the catalogue router: /api/catalogue/...).

- `POST /import`: a catalogue file (multipart field `file`: .xlsx, .csv, .zip of CSV files or
  JSON) and `dry_run`; for platform and department administrators, with a bearer token or a
  browser session. Answers the import report: 200 when the file was imported (or, for a dry
  run, could be), 400 with the same report listing every row error when nothing was written.
- `GET /export?format=json|xlsx|csv`: the published catalogue as a file; public. CSV comes as
  a .zip with one file per sheet.

See onewindow.catalogue.exchange for the formats and docs/catalogue-import.md for the columns.
"""

from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from onewindow.accounts.auth import api_auth
from onewindow.accounts.choices import AccountKind
from onewindow.catalogue import exchange, selectors
from onewindow.core import files
from onewindow.core.api import ErrorOut
from onewindow.core.errors import PermissionDenied

router = Router(tags=["catalogue"])


class RowErrorOut(Schema):
    sheet: str
    row: int | None
    column: str
    message: str
    text: str


class ImportReportOut(Schema):
    filename: str
    sha256: str
    format: str
    dry_run: bool
    written: bool
    rows: int
    themes: int
    basic_items_created: int
    items_created: int
    items_updated: int
    items_unchanged: int
    errors: list[RowErrorOut]


@router.post(
    "/import",
    auth=api_auth,
    # 400: the report of a file with errors, or a request refused before the file was read.
    response={200: ImportReportOut, 400: ImportReportOut | ErrorOut, 401: ErrorOut, 403: ErrorOut},
    summary="Import a catalogue file (Excel, CSV or JSON) as drafts; dry_run only checks it",
)
def catalogue_import(request: HttpRequest, file: File[UploadedFile], dry_run: Form[bool] = False) -> Status:
    user = request.auth
    if user.kind != AccountKind.STAFF:
        raise PermissionDenied(_("只有平台管理员或部门管理员可以导入事项目录。"))
    report = exchange.catalogue_import(actor=user, file=file, filename=file.name or "", dry_run=dry_run)
    return Status(400 if report.errors else 200, report.as_dict())


@router.get("/export", summary="The published catalogue as a file (json, xlsx, or csv in a .zip)")
def catalogue_export(
    request: HttpRequest, fmt: Literal["json", "xlsx", "csv"] = Query("json", alias="format")
) -> HttpResponse:
    data, content_type, filename = exchange.export_catalogue(
        actor=None, items=selectors.published_items(), fmt=fmt
    )
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = files.content_disposition(filename)
    return response
