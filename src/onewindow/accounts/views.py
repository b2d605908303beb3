from django.http import HttpRequest, HttpResponse


def lockout_response(request: HttpRequest, credentials: dict | None = None, *args, **kwargs) -> HttpResponse:
    from django.utils.translation import gettext as _

    return HttpResponse(_("登录失败次数过多，账户已暂时锁定，请稍后再试。"), status=429)
