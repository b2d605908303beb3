import asyncio
import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from onewindow.config.wsgi_threads import ThreadedWsgi

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.config.settings")

# Every view is synchronous. Django's ASGI handler runs them one at a time on a single thread
# per process and hops between it and the event loop several times per request; its WSGI
# handler on a pool of threads answers the same requests in well under half the CPU time
# (docs/cases.md, "Performance"). So HTTP goes through the WSGI handler on threads
# (config/wsgi_threads.py), and the event loop keeps the websockets.
wsgi_threads = ThreadedWsgi(get_wsgi_application(), threads=settings.HTTP_THREADS)

# These need Django set up first (get_wsgi_application does it).
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from onewindow.cases import live  # noqa: E402
from onewindow.cases import routing as cases_routing  # noqa: E402


async def http_application(scope, receive, send) -> None:
    # The live counters are sent from the request threads to the consumers on this loop.
    live.serve_from(asyncio.get_running_loop())
    await wsgi_threads(scope, receive, send)


# Websockets: the session cookie identifies the user (AuthMiddlewareStack); a page of another
# origin cannot open one (AllowedHostsOriginValidator checks Origin against ALLOWED_HOSTS).
websocket_urlpatterns = [*cases_routing.websocket_urlpatterns]
websocket_application = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))

application = ProtocolTypeRouter({"http": http_application, "websocket": websocket_application})
