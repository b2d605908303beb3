from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("载入演示数据（可重复执行）：行政区划、部门、工作日历、各角色账户、事项目录、办件、大厅、证照、投诉分类")

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help=_("不打印演示账户清单"))

    def handle(self, *args, quiet_logins: bool, **options):
        from onewindow.accounts import demo as accounts_demo
        from onewindow.cases import demo as cases_demo
        from onewindow.catalogue import demo as catalogue_demo
        from onewindow.complaints import demo as complaints_demo
        from onewindow.core import demo_regions
        from onewindow.hall import demo as hall_demo
        from onewindow.licences import demo as licences_demo
        from onewindow.smart import demo as smart_demo

        counts = demo_regions.load()
        self.stdout.write(_("行政区划与部门：%(counts)s") % {"counts": counts})
        call_command("calendar_seed", verbosity=0)
        logins = accounts_demo.load()
        catalogue = catalogue_demo.load()
        self.stdout.write(_("事项目录：%(counts)s") % {"counts": catalogue})
        self.stdout.write(_("演示办件：%(counts)s") % {"counts": cases_demo.load()})
        self.stdout.write(_("办事大厅：%(counts)s") % {"counts": hall_demo.load()})
        # After the smart items: their demo people hold licences too.
        self.stdout.write(_("智能审批事项：%(counts)s") % {"counts": smart_demo.load()})
        self.stdout.write(_("电子证照：%(counts)s") % {"counts": licences_demo.load()})
        self.stdout.write(_("咨询投诉：%(counts)s") % {"counts": complaints_demo.load()})
        if quiet_logins:
            return
        self.stdout.write("")
        self.stdout.write(_("演示账户（登录地址 /accounts/login/）："))
        for login in logins:
            line = f"  {login['label']:<14}\t{login['username']:<12}\t{login['password']}"
            if login.get("totp_secret"):
                line += "  " + _("动态口令密钥 %(secret)s") % {"secret": login["totp_secret"]}
            self.stdout.write(line)
