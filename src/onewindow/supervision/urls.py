"""Electronic supervision on the web (mounted at /supervision/)."""

from django.urls import path

from onewindow.supervision import views

app_name = "supervision"
urlpatterns = [
    path("warnings/", views.board_view, name="warnings"),
    path(
        "warnings/departments/<int:pk>/",
        views.department_warnings_view,
        name="department",
    ),
    path("cases/<int:pk>/", views.case_view, name="case"),
    path("joint-cases/<int:pk>/", views.joint_view, name="joint"),
    path("events/", views.events_view, name="events"),
    path("items/", views.items_view, name="items"),
    path("items/<int:pk>/", views.item_view, name="item"),
    path("notices/", views.notices_view, name="notices"),
    path("notices/issue/", views.notice_issue_view, name="notice_issue"),
    path("notices/<int:pk>/", views.notice_view, name="notice"),
    path(
        "notices/<int:pk>/<slug:action>/",
        views.notice_action_view,
        name="notice_action",
    ),
    path("denials/", views.denials_view, name="denials"),
    path("denials/<int:pk>/review/", views.denial_review_view, name="denial_review"),
    path("spot-checks/", views.spot_checks_view, name="spot_checks"),
    path("spot-checks/draw/", views.spot_check_draw_view, name="spot_check_draw"),
    path("spot-checks/<int:pk>/", views.spot_check_view, name="spot_check"),
    path(
        "spot-checks/samples/<int:pk>/",
        views.spot_check_record_view,
        name="spot_check_record",
    ),
    path("performance/", views.performance_view, name="performance"),
    path("rules/", views.rules_view, name="rules"),
    path("rules/<str:code>/", views.rule_edit_view, name="rule_edit"),
    path("thresholds/", views.thresholds_view, name="thresholds"),
    path("thresholds/<int:pk>/", views.threshold_edit_view, name="threshold_edit"),
]
