"""The demo 12345 hotline: the city's government service centre answers the hotline for the
whole city, with categories routed to the departments that handle them and a keyword rule.

`load` writes through the services and is idempotent: the centre is matched by department,
categories by code, the rule by its keyword; rows already present are left as they are.
"""

from django.db import transaction

from onewindow.accounts.models import User
from onewindow.complaints import services
from onewindow.complaints.models import HotlineCentre, RoutingRule, Topic
from onewindow.core.models import Department

OPERATOR = "admin"
CENTRE = "遵义市政务服务中心"
# (code, name, group, department, promised working days, keywords)
TOPICS = [
    (
        "food-safety",
        "食品安全",
        "市场监管",
        "遵义市市场监督管理局",
        5,
        "食品,餐饮,无证经营",
    ),
    (
        "city-management",
        "市容环境",
        "城市管理",
        "遵义市综合行政执法局",
        5,
        "占道,广告牌,噪音",
    ),
    (
        "social-security",
        "社会保障",
        "民生服务",
        "遵义市人力资源和社会保障局",
        10,
        "社保,医保,养老",
    ),
    ("consultation", "政策咨询", "咨询", "", 3, ""),
]
# (keyword, department): requests mentioning the keyword go there whatever their category.
RULES = [("工地", "遵义市住房和城乡建设局")]


@transaction.atomic
def load() -> dict[str, int]:
    counts = {"centres": 0, "topics": 0, "rules": 0}
    operator = User.objects.filter(username=OPERATOR).first()
    departments = {d.name: d for d in Department.objects.filter(is_active=True)}
    if operator is None or CENTRE not in departments:
        return counts
    centre = departments[CENTRE]
    if not HotlineCentre.objects.filter(department=centre).exists():
        services.centre_save(actor=operator, department=centre, region=centre.region)
        counts["centres"] += 1
    for code, name, group, department, days, keywords in TOPICS:
        if department and department not in departments:
            continue
        if not Topic.objects.filter(code=code).exists():
            services.topic_save(
                actor=operator,
                code=code,
                name=name,
                group=group,
                promised_days=days,
                department=departments.get(department),
                keywords=keywords,
            )
            counts["topics"] += 1
    for keyword, department in RULES:
        if (
            department in departments
            and not RoutingRule.objects.filter(keyword=keyword).exists()
        ):
            services.routing_rule_save(
                actor=operator,
                department=departments[department],
                priority=10,
                keyword=keyword,
            )
            counts["rules"] += 1
    return counts
