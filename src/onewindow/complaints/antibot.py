"""Anti-automation for the anonymous intake form: a hidden field people leave empty, and a signed
form token that must be at least a few seconds and at most a few hours old (a script posting at
once, or replaying an old form, is refused)."""

import time

from django.core import signing
from django.utils.translation import gettext as _

from onewindow.core.errors import InvalidInput

SALT = "onewindow.complaints.form"
MIN_SECONDS = 3
MAX_SECONDS = 2 * 3600
# The hidden field's name: what a form-filling script would fill in.
HONEYPOT = "website"


def form_token(now: float | None = None) -> str:
    return signing.dumps(int(now if now is not None else time.time()), salt=SALT)


def check(token: str, honeypot: str, now: float | None = None) -> None:
    now = now if now is not None else time.time()
    if honeypot:
        raise InvalidInput(_("提交未通过校验，请刷新页面后重新填写。"))
    try:
        issued = signing.loads(token or "", salt=SALT)
    except signing.BadSignature:
        raise InvalidInput(_("提交未通过校验，请刷新页面后重新填写。")) from None
    age = now - int(issued)
    if age < MIN_SECONDS:
        raise InvalidInput(_("提交过快，请确认内容后再提交。"))
    if age > MAX_SECONDS:
        raise InvalidInput(_("页面已过期，请刷新页面后重新填写。"))
