"""The configuration pages: the supervision rules (platform administrators change them) and the
items' warning thresholds (the item department's administrator or a platform administrator set
them; supervisors read them). Bad input is refused with the reason and writes nothing."""

from django.urls import reverse

from onewindow.core.models import AuditEntry
from onewindow.supervision import services
from onewindow.supervision.models import ItemSetting, SupervisionRule


def _rule(code):
    return SupervisionRule.objects.get(code=code)


def _entries(action):
    return AuditEntry.objects.filter(action=action).count()


def test_supervisors_read_the_rules_and_only_a_platform_administrator_changes_them(
    client_as, people, world
):
    services.rules()  # the shipped rules, put back in the flushed test database
    supervisor = client_as(people.supervisor)
    page = supervisor.get(reverse("supervision:rules"))
    html = page.content.decode()
    assert page.status_code == 200 and 'class="sv-subnav"' in html
    assert "A08" in html and "撤回次数上限：2" in html and "红牌持续工作日数" in html
    assert reverse("supervision:rule_edit", args=["W05"]) not in html
    edit = reverse("supervision:rule_edit", args=["W05"])
    assert supervisor.get(edit).status_code == 403
    assert (
        supervisor.post(edit, {"enabled": "on", "after_days": "9"}).status_code == 403
    )
    assert _rule("W05").parameters == {"after_days": 3}

    admin = client_as(world.admin)
    assert edit in admin.get(reverse("supervision:rules")).content.decode()
    form = admin.get(edit).content.decode()
    assert 'name="after_days"' in form and 'value="3"' in form
    response = admin.post(edit, {"enabled": "on", "after_days": "5"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "supervision:rules"
    )
    assert _rule("W05").parameters == {"after_days": 5}
    assert _entries("supervision.rule.configure") == 1
    # A checkbox left unticked switches the rule off.
    admin.post(
        reverse("supervision:rule_edit", args=["A08"]),
        {"max_withdrawals": "3", "within_days": "60"},
    )
    a08 = _rule("A08")
    assert not a08.enabled and a08.parameters == {
        "max_withdrawals": 3,
        "within_days": 60,
    }


def test_bad_rule_input_is_refused_with_the_reason_and_nothing_is_written(
    client_as, world
):
    services.rules()
    admin = client_as(world.admin)
    edit = reverse("supervision:rule_edit", args=["A06"])
    for bad in (
        {"min_seconds": "-1"},
        {"min_seconds": "abc"},
        {},
        {"min_seconds": "100001"},
    ):
        response = admin.post(edit, {"enabled": "on", **bad})
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
    assert _rule("A06").parameters == {"min_seconds": 60} and _rule("A06").enabled
    assert _entries("supervision.rule.configure") == 0
    assert admin.get(reverse("supervision:rule_edit", args=["W99"])).status_code == 404


def test_the_department_administrator_sets_an_item_threshold(client_as, world, item):
    head = client_as(world.editor)
    page = head.get(reverse("supervision:thresholds"), {"q": item.impl_code})
    html = page.content.decode()
    assert page.status_code == 200 and item.name in html
    assert 'class="sv-subnav"' not in html  # the workbench shell, not supervision's
    assert "剩余不超过 1 个工作日或时限的 20%" in html and "红牌持续 3 个工作日" in html
    edit = reverse("supervision:threshold_edit", args=[item.pk])
    assert edit in html
    response = head.post(
        edit,
        {"near_days": "2", "near_percent": "20", "separate_accept_and_decide": "on"},
    )
    assert response.status_code == 302 and item.impl_code in response["Location"]
    setting = ItemSetting.objects.get(item=item)
    assert (setting.near_days, setting.separate_accept_and_decide) == (2, True)
    assert _entries("supervision.item_setting.save") == 1
    listed = head.get(reverse("supervision:thresholds"), {"q": item.name[:4]})
    assert "提前 2 个工作日" in listed.content.decode()
    # Back to a share of the limit: the days left empty.
    head.post(edit, {"near_days": "", "near_percent": "30"})
    setting.refresh_from_db()
    assert (setting.near_days, setting.near_percent) == (None, 30)
    assert not setting.separate_accept_and_decide


def test_bad_threshold_input_is_refused_and_nothing_is_written(client_as, world, item):
    head = client_as(world.editor)
    edit = reverse("supervision:threshold_edit", args=[item.pk])
    for bad in (
        {"near_days": "61", "near_percent": "20"},
        {"near_days": "-1", "near_percent": "20"},
        {"near_days": "", "near_percent": "0"},
        {"near_days": "", "near_percent": ""},
        {"near_days": "二", "near_percent": "20"},
    ):
        response = head.post(edit, bad)
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
    assert not ItemSetting.objects.exists()
    assert _entries("supervision.item_setting.save") == 0


def test_thresholds_are_read_in_scope_and_set_only_by_those_allowed(
    client_as, people, world, item
):
    edit = reverse("supervision:threshold_edit", args=[item.pk])
    supervisor = client_as(people.supervisor)
    html = supervisor.get(reverse("supervision:thresholds")).content.decode()
    assert item.impl_code in html and edit not in html and 'class="sv-subnav"' in html
    assert (
        supervisor.post(edit, {"near_days": "2", "near_percent": "20"}).status_code
        == 404
    )
    for outsider in (people.outsider, world.outsider):
        client = client_as(outsider)
        listed = client.get(reverse("supervision:thresholds")).content.decode()
        assert item.impl_code not in listed
        assert client.get(edit).status_code == 404
    assert client_as(world.clerk).get(edit).status_code == 403
    assert not ItemSetting.objects.exists()
    none_found = client_as(world.editor).get(
        reverse("supervision:thresholds"), {"q": "没有这个事项"}
    )
    assert "没有找到符合条件的事项" in none_found.content.decode()
    admin = client_as(world.admin)
    assert admin.post(edit, {"near_days": "1", "near_percent": "50"}).status_code == 302
    assert ItemSetting.objects.get(item=item).near_percent == 50
