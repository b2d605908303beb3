from django.http import HttpRequest


def shell(request: HttpRequest) -> dict:
    """Facts every page of the shell shows (platform name)."""
    from django.utils.translation import gettext as _

    return {"platform_name": _("一网通办")}
