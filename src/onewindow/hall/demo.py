"""The demo service halls: the city's government service centre with the windows of four
departments, and the 红花岗区 centre with its market-regulation windows, each window with an
appointment schedule.

`load` writes through the services as the demo platform administrator and is idempotent: halls
are matched by code, windows by hall and number, schedules by window; rows already present are
left as they are (an operator may have changed them).
"""

import datetime as dt
from django.db import transaction

from onewindow.accounts.models import User
from onewindow.core.models import Department
from onewindow.hall import services
from onewindow.hall.models import Hall, SlotSchedule, Window

OPERATOR = "admin"

# (code, name, operating department, address, windows)
# window: (number, name, department, queue letter, schedule: (slot minutes, capacity) or None)
HALLS: list[tuple[str, str, str, str, list[tuple[str, str, str, str, tuple[int, int] | None]]]] = [
    ("zunyi-city", "遵义市政务服务中心", "遵义市政务服务中心", "贵州省遵义市汇川区厦门路遵义市政务服务中心一楼", [
        ("11", "市场监管综合窗口", "遵义市市场监督管理局", "A", (30, 3)),
        ("12", "市场监管综合窗口", "遵义市市场监督管理局", "A", (30, 3)),
        ("13", "食品药品许可窗口", "遵义市市场监督管理局", "A", None),
        ("21", "户政窗口", "遵义市公安局", "B", (20, 2)),
        ("22", "户政窗口", "遵义市公安局", "B", (20, 2)),
        ("31", "社会保障窗口", "遵义市人力资源和社会保障局", "C", (30, 2)),
        ("41", "民政服务窗口", "遵义市民政局", "D", (30, 2)),
    ]),
    ("honghuagang", "红花岗区政务服务中心", "遵义市红花岗区政务服务中心", "贵州省遵义市红花岗区政务服务中心", [
        ("1", "市场主体登记窗口", "遵义市红花岗区市场监督管理局", "A", (30, 2)),
        ("2", "食品经营许可窗口", "遵义市红花岗区市场监督管理局", "A", (30, 2)),
    ]),
]


@transaction.atomic
def load() -> dict[str, int]:
    """Create the demo halls, windows and schedules not yet present; returns counts."""
    counts = {"halls": 0, "windows": 0, "schedules": 0}
    operator = User.objects.filter(username=OPERATOR).first()
    if operator is None:
        return counts
    departments = {d.name: d for d in Department.objects.filter(is_active=True)}
    for code, name, operating, address, windows in HALLS:
        if operating not in departments:
            continue
        hall = Hall.objects.filter(code=code).first()
        if hall is None:
            hall = services.hall_save(actor=operator, code=code, name=name, department=departments[operating],
                                      address=address)
            counts["halls"] += 1
        for number, window_name, department_name, letter, schedule in windows:
            department = departments.get(department_name)
            if department is None:
                continue
            window = Window.objects.filter(hall=hall, number=number).first()
            if window is None:
                window = services.window_save(actor=operator, hall=hall, department=department, number=number,
                                              name=window_name, queue_letter=letter)
                counts["windows"] += 1
            if schedule is not None and not SlotSchedule.objects.filter(window=window).exists():
                minutes, capacity = schedule
                services.schedule_save(actor=operator, window=window, slot_minutes=minutes, capacity=capacity,
                                       morning_start=dt.time(9, 0), morning_end=dt.time(12, 0),
                                       afternoon_start=dt.time(13, 30), afternoon_end=dt.time(17, 0), days_ahead=5)
                counts["schedules"] += 1
    return counts
