"""`onewindow licence_verify FILE --issuers REGISTRY [--status-list LIST ...]`: check a downloaded
licence data file without the platform: the registry (GET /api/licences/issuers) and the
issuer's status list (GET /api/licences/status-lists/<USCC>) are files the verifier was given.
No database is read. Exit status 0 when the licence is valid, 1 when a check fails."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from onewindow.core.text import listing
from onewindow.licences import selectors, verification
from onewindow.licences.document import MAX_FILE_BYTES


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(
            _("无法读取 %(file)s：%(error)s") % {"file": path, "error": exc},
            returncode=2,
        ) from None


class Command(BaseCommand):
    requires_system_checks: list[str] = []

    @property
    def help(self) -> str:  # type: ignore[override]  # translated when the parser is built
        return _("离线核验电子证照数据文件（完整性、状态、签发机构）")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("要核验的电子证照数据文件"))
        parser.add_argument(
            "--issuers",
            required=True,
            help=_("可信签发机构名录文件（/api/licences/issuers）"),
        )
        parser.add_argument(
            "--status-list",
            action="append",
            default=[],
            help=_(
                "签发机构的状态列表文件（/api/licences/status-lists/<统一社会信用代码>），可多次指定"
            ),
        )
        parser.add_argument(
            "--date", default=None, help=_("按哪一天核验有效期（YYYY-MM-DD，默认今天）")
        )

    def handle(
        self,
        *args: Any,
        file: str,
        issuers: str,
        status_list: list[str],
        date: str | None,
        **options: Any,
    ) -> None:
        import datetime as dt

        from onewindow.licences import clock

        path = Path(file)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CommandError(_("文件过大，不是电子证照数据文件。"), returncode=2)
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("无法读取 %(file)s：%(error)s") % {"file": file, "error": exc},
                returncode=2,
            ) from None
        registry = _read_json(issuers)
        if not isinstance(registry, list):
            raise CommandError(_("可信签发机构名录文件格式不对。"), returncode=2)
        try:
            keys = selectors.registry_lookup(registry)
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandError(
                _("可信签发机构名录文件格式不对：%(error)s") % {"error": exc},
                returncode=2,
            ) from None
        credentials = []
        for list_file in status_list:
            credential = _read_json(list_file)
            problem = (
                selectors.check_status_list(credential, keys)
                if isinstance(credential, dict)
                else _("格式不对")
            )
            if problem:
                raise CommandError(
                    _("状态列表 %(file)s 不可信：%(problem)s")
                    % {"file": list_file, "problem": problem},
                    returncode=2,
                )
            credentials.append(credential)
        try:
            today = dt.date.fromisoformat(date) if date else clock.today()
        except ValueError:
            raise CommandError(_("日期格式应为 YYYY-MM-DD。"), returncode=2) from None
        report = verification.verify_file(
            raw,
            keys=keys,
            statuses=selectors.file_status_lookup(credentials) if credentials else None,
            library=None,
            today=today,
        )
        facts = report.facts
        if facts:
            self.stdout.write(
                _(
                    "证照：%(name)s %(number)s（第 %(version)s 版），签发机构：%(issuer)s"
                )
                % {
                    "name": facts.get("licenceType.name"),
                    "number": facts.get("number"),
                    "version": facts.get("version"),
                    "issuer": facts.get("issuer.name"),
                }
            )
        for check in report.checks:
            self.stdout.write(f"[{check.result_label}] {check.label}：{check.message}")
        if report.valid:
            self.stdout.write(self.style.SUCCESS(_("结论：有效")))
            return
        raise CommandError(
            _("结论：无效（未通过：%(checks)s）")
            % {"checks": listing(c.label for c in report.checks if not c.passed)},
            returncode=1,
        )
