"""`onewindow catalogue_export <file> [--format json|xlsx|csv] [--as <username>]`: export the catalogue.

Without --as: the published items. With --as: the items that account may edit, each in its
latest version (drafts included). CSV is written as a .zip with one CSV per sheet.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from onewindow.catalogue import exchange, selectors
from onewindow.catalogue.management.commands.catalogue_import import acting_user

FORMATS_BY_SUFFIX = {".json": "json", ".xlsx": "xlsx", ".zip": "csv"}


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when the parser is built
        return _("把事项目录导出为 JSON、Excel 或 CSV（.zip）文件，可再导入")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help=_("输出文件"))
        parser.add_argument("--format", dest="fmt", choices=sorted(exchange.CONTENT_TYPES), help=_("默认按文件扩展名：.json、.xlsx、.zip（CSV）"))
        parser.add_argument("--as", dest="username", metavar="USERNAME", help=_("导出该账户可编辑的事项的最新版本"))

    def handle(self, *args: Any, file: str, fmt: str | None, username: str | None, **options: Any) -> None:
        path = Path(file)
        fmt = fmt or FORMATS_BY_SUFFIX.get(path.suffix.lower())
        if fmt is None:
            raise CommandError(_("无法从扩展名判断格式，请用 --format 指定 json、xlsx 或 csv。"))
        if fmt == "csv" and path.suffix.lower() != ".zip":
            raise CommandError(_("CSV 导出为每个工作表一个文件的 .zip 压缩包，请使用 .zip 文件名。"))
        if username:
            actor = acting_user(username)
            items = selectors.editable_items(actor)
        else:
            actor, items = None, selectors.published_items()
        data, _content_type, _filename = exchange.export_catalogue(actor=actor, items=items, fmt=fmt)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise CommandError(_("无法写入 %(path)s：%(error)s") % {"path": file, "error": exc.strerror}) from None
        self.stdout.write(_("已导出到 %(path)s（%(size)d 字节）。") % {"path": file, "size": len(data)})
