import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.config.settings")

django_asgi_app = get_asgi_application()

# These need Django set up first.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from onewindow.cases import routing as cases_routing  # noqa: E402

# Websockets: the session cookie identifies the user (AuthMiddlewareStack); a page of another
# origin cannot open one (AllowedHostsOriginValidator checks Origin against ALLOWED_HOSTS).
websocket_urlpatterns = [*cases_routing.websocket_urlpatterns]

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
