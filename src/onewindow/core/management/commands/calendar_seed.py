from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from onewindow.core import workdays
from onewindow.core.errors import InvalidInput
from onewindow.core.services.calendar import calendar_seed_from_package


class Command(BaseCommand):
    help = _("从 chinesecalendar 导入全国节假日与调休安排并确认这些年份（可重复执行，不覆盖管理员修改）")

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, action="append", dest="years", help=_("只导入该年份（可重复指定）；默认导入全部年份")
        )

    def handle(self, *args, years: list[int] | None, **options):
        try:
            result = calendar_seed_from_package(actor="calendar_seed", years=years)
        except InvalidInput as exc:
            raise CommandError(exc.message) from None
        if options["verbosity"] < 1:
            return
        self.stdout.write(
            _("已导入 %(first)s–%(last)s 年：新增 %(created)d，更新 %(updated)d，删除 %(deleted)d，保留管理员修改 %(kept)d。")
            % {
                "first": result.years[0],
                "last": result.years[-1],
                "created": result.created,
                "updated": result.updated,
                "deleted": result.deleted,
                "kept": result.kept,
            }
        )
        missing = workdays.missing_years()
        if missing:
            self.stderr.write(
                _("注意：%(years)s 年节假日安排尚未录入，期限计算暂按周末计算，结果标记为未确认。")
                % {"years": pgettext("list separator", "、").join(str(year) for year in missing)}
            )
