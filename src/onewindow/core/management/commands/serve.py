from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = _("迁移数据库、收集静态文件并启动 ASGI 服务")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1)

    def handle(self, *args, host: str, port: int, workers: int, **options):
        import uvicorn

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write(_("OneWindow 已启动：http://%(host)s:%(port)s/") % {"host": host, "port": port})
        self.stdout.write(_("数据库：%(engine)s") % {"engine": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]})
        uvicorn.run(
            "onewindow.config.asgi:application",
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            proxy_headers=True,
            lifespan="off",
        )
