"""Facts every page of the shell shows: platform name and the navigation of each audience.

Each navigation entry names the URL it points to. An entry whose URL is not installed (its app
has not shipped yet) renders as plain text rather than a dead link.
"""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import StaffProfile
from onewindow.accounts.permissions import active_assignments
from onewindow.complaints import services as complaints
from onewindow.licences import services as licences


# Who works on the catalogue: its editors, legal reviewers and publishers.
CATALOGUE_ROLES = (Role.DEPARTMENT_ADMIN, Role.LEGAL_REVIEWER, Role.PLATFORM_ADMIN)
# Who reads the service hall's waiting-time figures (window clerks also call tickets).
HALL_FIGURE_ROLES = (Role.WINDOW_CLERK, Role.DEPARTMENT_ADMIN, Role.APPROVER, Role.SUPERVISOR, Role.PLATFORM_ADMIN)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str | None
    current: bool = False


def _url(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def _nav(request: HttpRequest, label: str, url_name: str, *, exact: bool = False) -> NavItem:
    url = _url(url_name)
    if url is None:
        return NavItem(label, None)
    # A section stays current on its sub-pages; a home page only on itself.
    current = request.path == url or (not exact and request.path.startswith(url))
    return NavItem(label, url, current)


class StaffIdentity:
    """Department and roles for the staff header; queried only when a template shows them."""

    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def department(self) -> Any:
        profile = StaffProfile.objects.filter(user=self.user).select_related("department").first()
        return profile.department if profile else None

    @cached_property
    def roles(self) -> list[str]:
        return sorted({str(assignment.get_role_display()) for assignment in active_assignments(self.user)})


def shell(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    portal_nav = [
        _nav(request, _("首页"), "core:home", exact=True),
        _nav(request, _("办事指南"), "catalogue:index"),
        _nav(request, _("一件事一次办"), "cases:joint_offered"),
    ]
    # Village agents (代办员) are staff who file for citizens: they have cases of their own too.
    is_agent = signed_in and user.kind == AccountKind.STAFF and active_assignments(user).filter(
        role=Role.VILLAGE_AGENT).exists()
    if signed_in and (user.kind != AccountKind.STAFF or is_agent):
        portal_nav.append(_nav(request, _("我的办件"), "cases:mine"))
    if signed_in and user.kind != AccountKind.STAFF:
        portal_nav.append(_nav(request, _("我的证照"), "licences:mine"))
    portal_nav += [
        _nav(request, _("办件进度查询"), "cases:progress"),
        _nav(request, _("证照核验"), "licences:verify"),
        _nav(request, _("咨询投诉"), "complaints:new"),
        _nav(request, _("政务公开"), "publicity:index"),
        _nav(request, _("消息"), "core:inbox"),
    ]
    if signed_in and user.kind != AccountKind.STAFF:
        portal_nav.append(_nav(request, _("我的预约"), "hall:appointments"))
    if signed_in:
        portal_nav.append(_nav(request, _("我的账户"), "accounts:profile"))
    workbench_nav = [
        _nav(request, _("工作台首页"), "core:workbench", exact=True),
        _nav(request, _("待办办件"), "cases_workbench:home"),
    ]
    if signed_in and user.kind == AccountKind.STAFF and active_assignments(user).filter(
            role=Role.WINDOW_CLERK).exists():
        intake = _nav(request, _("窗口收件"), "cases_workbench:intake")
        joint = _nav(request, _("一件事联办"), "cases_workbench:joint_queue")
        if intake.current or joint.current:  # a page within the cases workbench, but not a queue
            workbench_nav[-1] = NavItem(workbench_nav[-1].label, workbench_nav[-1].url)
        workbench_nav += [intake, joint]
    if signed_in and active_assignments(user).filter(role__in=CATALOGUE_ROLES).exists():
        workbench_nav += [_nav(request, _("事项管理"), "catalogue_workbench:items"),
                          _nav(request, _("智能审批规则"), "smart:items")]
    if is_agent:
        workbench_nav += [_nav(request, _("代办申报"), "cases:agent_file"), _nav(request, _("我的办件"), "cases:mine")]
    hall_roles = set()
    if signed_in and user.kind == AccountKind.STAFF:
        hall_roles = set(active_assignments(user).filter(role__in=HALL_FIGURE_ROLES).values_list("role", flat=True))
    if Role.WINDOW_CLERK in hall_roles:
        workbench_nav.append(_nav(request, _("取号叫号"), "hall:desk"))
    if hall_roles:
        workbench_nav.append(_nav(request, _("等候时长统计"), "hall:figures"))
    if signed_in and user.kind == AccountKind.STAFF:
        workbench_nav += [
            _nav(request, _("咨询投诉办理"), "complaints:work"),
            _nav(request, _("差评整改"), "evaluation:rectifications"),
            _nav(request, _("结果公开"), "publicity:staff"),
            _nav(request, _("证照调用"), "licences:lookup"),
        ]
        if licences.may_issue_anywhere(user):
            workbench_nav.append(_nav(request, _("电子证照管理"), "licences:department"))
        if complaints.may_keep_rules(user):
            workbench_nav.append(_nav(request, _("分派规则"), "complaints:rules"))
        if complaints.may_keep_topics(user):
            workbench_nav.append(_nav(request, _("诉求类别"), "complaints:topics"))
    workbench_nav += [
        _nav(request, _("消息"), "core:inbox"),
        _nav(request, _("监察"), "core:supervision", exact=True),
    ]
    return {
        "staff_identity": StaffIdentity(user) if signed_in else None,
        "platform_name": _("一网通办"),
        "portal_nav": portal_nav,
        "workbench_nav": workbench_nav,
        "supervision_nav": [
            _nav(request, _("监察首页"), "core:supervision", exact=True),
            _nav(request, _("预警"), "supervision:warnings"),
            _nav(request, _("督办"), "supervision:items"),
            _nav(request, _("否定报备"), "supervision:denials"),
            _nav(request, _("抽查"), "supervision:spot_checks"),
            _nav(request, _("绩效"), "supervision:performance"),
            _nav(request, _("数据分析"), "analytics:dashboard"),
            _nav(request, _("工作台"), "core:workbench", exact=True),
        ],
        "login_url": _url("accounts:login"),
        "profile_url": _url("accounts:profile"),
        "logout_url": _url("accounts:logout"),
        "inbox_url": _url("core:inbox"),
        "unread_badge_url": _url("core:inbox_unread_count"),
    }
