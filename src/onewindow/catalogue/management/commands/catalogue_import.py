"""`onewindow catalogue_import <file> [--dry-run] --as <username>`: import a catalogue file.

The file is Excel (.xlsx), CSV (.csv, or a .zip with one CSV per sheet) or JSON; see
onewindow.catalogue.exchange. Imported items are drafts. Exits with an error, having written
nothing, when any row has a problem; every problem is printed.
"""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from onewindow.catalogue import exchange
from onewindow.core.errors import DomainError


def acting_user(username: str | None) -> Any:
    """The account a command acts as (`--as`); its roles decide what it may do."""
    if not username:
        raise CommandError(_("请用 --as 指定以哪个账户的身份操作。"))
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("没有名为“%(username)s”的有效账户。") % {"username": username})
    return user


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when the parser is built
        return _("从 Excel、CSV 或 JSON 文件批量导入事项目录（导入为草稿，仍须法制审核和发布）")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("目录文件：.xlsx、.csv、.zip（多个 CSV）或 .json"))
        parser.add_argument("--dry-run", action="store_true", help=_("只检查，不写入"))
        parser.add_argument("--as", dest="username", metavar="USERNAME", help=_("以该账户的身份导入（平台管理员或部门管理员）"))

    def handle(self, *args: Any, file: str, dry_run: bool, username: str | None, **options: Any) -> None:
        actor = acting_user(username)
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("找不到文件 %(path)s。") % {"path": file})
        try:
            with path.open("rb") as handle:
                report = exchange.catalogue_import(actor=actor, file=handle, filename=path.name, dry_run=dry_run)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            _("共 %(rows)d 行：服务主题 %(themes)d 个，新增基本目录事项 %(basic)d 个，新增事项 %(created)d 个，"
              "更新事项 %(updated)d 个，未变 %(unchanged)d 个。")
            % {"rows": report.rows, "themes": report.themes, "basic": report.basic_items_created,
               "created": report.items_created, "updated": report.items_updated, "unchanged": report.items_unchanged}
        )
        for error in report.errors:
            self.stderr.write(str(error))
        if report.errors:
            raise CommandError(_("发现 %(n)d 处问题，未写入任何内容。") % {"n": len(report.errors)})
        if dry_run:
            self.stdout.write(_("检查通过（试运行，未写入）。"))
        else:
            self.stdout.write(_("已导入。导入的事项为草稿，须提交法制审核后发布。"))
