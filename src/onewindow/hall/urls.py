"""The service hall on the web (mounted at /hall/): the applicant's appointments, a hall's kiosk
and calling screen, the window clerk's desk and the waiting-time figures."""

from django.urls import path

from onewindow.hall import views

app_name = "hall"
urlpatterns = [
    path("appointments/", views.appointments_view, name="appointments"),
    path("appointments/book/", views.book_view, name="book"),
    path("appointments/<int:pk>/cancel/", views.cancel_view, name="cancel"),
    path("halls/<slug:code>/kiosk/", views.kiosk_view, name="kiosk"),
    path("halls/<slug:code>/kiosk/take/", views.kiosk_take_view, name="kiosk_take"),
    path("halls/<slug:code>/kiosk/check-in/", views.kiosk_check_in_view, name="kiosk_check_in"),
    path("halls/<slug:code>/kiosk/tickets/<int:pk>/", views.kiosk_ticket_view, name="kiosk_ticket"),
    path("halls/<slug:code>/screen/", views.screen_view, name="screen"),
    path("halls/<slug:code>/screen/board/", views.screen_board_view, name="screen_board"),
    path("desk/", views.desk_view, name="desk"),
    path("desk/windows/<int:pk>/", views.desk_window_view, name="desk_window"),
    path("desk/windows/<int:pk>/waiting/", views.desk_waiting_view, name="desk_waiting"),
    path("desk/windows/<int:pk>/call-next/", views.call_next_view, name="call_next"),
    path("desk/tickets/<int:pk>/<slug:action>/", views.ticket_action_view, name="ticket_action"),
    path("figures/", views.figures_view, name="figures"),
]
