"""`onewindow catalogue_reindex`: recompute the search documents of every published item."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from onewindow.catalogue import search


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when the parser is built
        return _("重建事项目录的全文检索文档（分批处理，可重复执行）")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help=_("每个事务处理的事项数"))
        parser.add_argument(
            "--rebuild-index",
            action="store_true",
            help=_("同时从检索文档重建 SQLite 全文索引（数据表被重建、触发器丢失之后使用）"),
        )
        parser.add_argument("--progress", action="store_true", help=_("在标准错误输出上显示进度"))

    def handle(self, *args: Any, batch: int, rebuild_index: bool, progress: bool, **options: Any) -> None:
        def show(done: int, total: int) -> None:
            sys.stderr.write(_("已处理 %(done)d / %(total)d 个事项") % {"done": done, "total": total} + "\r")

        result = search.reindex_all(
            batch_size=max(1, batch), progress=show if progress else None, rebuild_index=rebuild_index
        )
        if progress:
            sys.stderr.write("\n")
        self.stdout.write(
            _("检索文档已更新 %(written)d 个，未变 %(unchanged)d 个，移除 %(removed)d 个（未发布的事项）。")
            % {"written": result.written, "unchanged": result.unchanged, "removed": result.removed}
        )
