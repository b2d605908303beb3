"""Halls, windows and schedules in the admin (saved through the services), and the demo halls."""

import pytest
from django.urls import reverse

from onewindow.core.models import AuditEntry
from onewindow.hall import demo
from onewindow.hall.models import Hall, SlotSchedule, Window


@pytest.mark.django_db
def test_admin_lists_and_saves_through_the_services(admin_client, hall, item, window, people, centre, world):
    for model in ("hall", "window", "slotschedule", "appointment", "queueticket"):
        assert admin_client.get(reverse(f"admin:hall_{model}_changelist")).status_code == 200, model
    response = admin_client.post(reverse("admin:hall_hall_add"), {
        "code": "honghuagang", "name": "红花岗区政务服务中心", "department": centre.pk, "address": "", "is_active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Hall.objects.get(code="honghuagang")
    assert AuditEntry.objects.filter(action="hall.hall.save", object_id=str(created.pk)).count() == 1
    refused = admin_client.post(reverse("admin:hall_window_add"), {
        "hall": hall.pk, "department": world.other.pk, "number": "41", "name": "民政窗口", "queue_letter": "D",
        "items": [item.pk], "is_active": "on",
    })
    assert refused.status_code == 200 and "只能办理本部门的事项" in refused.content.decode()
    assert not Window.objects.filter(number="41").exists()
    changed = admin_client.post(reverse("admin:hall_slotschedule_change", args=[window.schedule.pk]), {
        "slot_minutes": "20", "capacity": "4", "morning_start": "09:00", "morning_end": "12:00",
        "afternoon_start": "", "afternoon_end": "", "days_ahead": "3", "is_active": "on",
    })
    assert changed.status_code == 302, changed.content.decode()[:2000]
    schedule = SlotSchedule.objects.get(window=window)
    assert (schedule.slot_minutes, schedule.capacity, schedule.afternoon_start) == (20, 4, None)


def test_demo_halls_load_once(demo_data, client):
    assert Hall.objects.filter(code__in=["zunyi-city", "honghuagang"]).count() == 2
    assert Window.objects.filter(hall__code="zunyi-city").count() == 7
    assert SlotSchedule.objects.filter(window__hall__code="zunyi-city").count() == 6
    assert demo.load() == {"halls": 0, "windows": 0, "schedules": 0}
    assert client.get(reverse("hall:screen", args=["zunyi-city"])).status_code == 200
