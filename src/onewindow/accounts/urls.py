from django.urls import path

from onewindow.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register_view, name="register"),
    path("verify/", views.verify_view, name="verify"),
    path("verify/send/", views.send_code_view, name="send_code"),
    path("totp/", views.totp_enrol_view, name="totp"),
    path("me/", views.profile_view, name="profile"),
    path("password/", views.password_change_view, name="password"),
    path("enterprises/register/", views.enterprise_register_view, name="enterprise_register"),
    path("enterprises/<int:enterprise_id>/", views.enterprise_view, name="enterprise"),
    path("enterprises/<int:enterprise_id>/handlers/<int:handler_id>/revoke/", views.handler_revoke_view,
         name="handler_revoke"),
    path("staff/", views.staff_list_view, name="staff"),
    path("staff/<int:user_id>/", views.staff_detail_view, name="staff_detail"),
    path("roles/<int:assignment_id>/revoke/", views.role_revoke_view, name="role_revoke"),
    path("authorisations/", views.authorisation_list_view, name="authorisations"),
    path("authorisations/<int:authorisation_id>/revoke/", views.authorisation_revoke_view,
         name="authorisation_revoke"),
]
