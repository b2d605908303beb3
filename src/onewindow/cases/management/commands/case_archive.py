"""`onewindow case_archive export NUMBER FILE | verify FILE`: electronic archive packages of cases."""

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from onewindow.cases import archive
from onewindow.cases.models import Case
from onewindow.core.errors import DomainError


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when the parser is built
        return _("办件电子档案包：导出（export）、核验（verify）")

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help=_("把已归档办件的电子档案导出为 ZIP 档案包"))
        export.add_argument("number", help=_("办件编号"))
        export.add_argument("file", help=_("写入的档案包文件"))
        export.add_argument("--base-url", default=None,
                            help=_("平台的公网地址（如 https://zwfw.example.gov.cn），用于文书上的进度查询二维码"))
        verify = actions.add_parser("verify", help=_("核验档案包，并与数据库中的归档摘要和审计账本比对"))
        verify.add_argument("file", help=_("要核验的档案包文件"))
        verify.add_argument("--expected", default=None, help=_("另外比对的清单摘要（SHA-256）"))

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    def handle_export(self, *, number: str, file: str, base_url: str | None, **options: Any) -> None:
        case = Case.objects.filter(number=number).first()
        if case is None:
            raise CommandError(_("没有编号为 %(number)s 的办件") % {"number": number}, returncode=1)
        target = Path(file)
        try:
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".archive-")
        except OSError as exc:
            raise CommandError(_("无法写入 %(file)s：%(error)s") % {"file": file, "error": exc.strerror},
                               returncode=1) from None
        try:
            # Written beside the target and moved into place: no half-written package is left.
            with os.fdopen(handle, "wb") as out:
                archive.write_package(case, out, base_url=base_url)
            os.replace(temporary, target)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=1) from None
        finally:
            Path(temporary).unlink(missing_ok=True)
        self.stdout.write(_("已导出 %(number)s 的电子档案包：%(file)s") % {"number": number, "file": target})
        self._report(archive.verify_with_records(target.read_bytes()))

    def handle_verify(self, *, file: str, expected: str | None, **options: Any) -> None:
        path = Path(file)
        try:
            if path.stat().st_size > archive.MAX_TOTAL_BYTES:
                raise CommandError(_("档案包过大，拒绝处理。"), returncode=1)
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("无法读取 %(file)s：%(error)s") % {"file": file, "error": exc.strerror},
                               returncode=1) from None
        self._report(archive.verify_with_records(data, expected_sha256=expected))

    def _report(self, report: archive.VerifyReport) -> None:
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"[{problem.code}] {problem.message}")
            raise CommandError(_("档案包核验失败：共发现 %(count)d 处问题") % {"count": len(report.problems)},
                               returncode=1)
        if not report.sealed_by:
            self.stderr.write(_("警告：数据库中没有办件 %(number)s 的归档记录，仅核验了档案包内部的一致性")
                              % {"number": report.case_number})
        self.stdout.write(
            _("OK 档案包完整：办件 %(number)s，清单摘要 %(digest)s（%(sealed)s），文书 %(documents)d 份，材料文件 %(materials)d 个")
            % {"number": report.case_number, "digest": report.manifest_sha256,
               "sealed": pgettext("list separator", "、").join(report.sealed_by) or _("未与归档记录比对"), "documents": report.documents,
               "materials": report.materials}
        )
