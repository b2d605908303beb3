"""The printed ticket's QR code (好差评, 一次一评): scanned as a phone would, it leads to the rating
page of that one visit, which takes one rating once the window has finished, without sign-in."""

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve, reverse

from onewindow.evaluation.choices import EvaluationChannel
from onewindow.evaluation.models import Evaluation
from onewindow.hall import services
from onewindow.hall.models import QueueTicket
from tests.hall.qr_scan import scan

pytestmark = pytest.mark.django_db


def printed_ticket(client, hall, item) -> tuple[QueueTicket, str]:
    """Take a ticket at the kiosk; the ticket and the address its QR code holds."""
    taken = client.post(reverse("hall:kiosk_take", args=[hall.code]), {"item": item.pk})
    page = client.get(taken["Location"])
    assert page.status_code == 200
    svg = re.search(r'class="kiosk-ticket__qr">\s*(<svg.*?</svg>)', page.content.decode(), re.DOTALL)
    assert svg, "the ticket shows a QR code"
    return QueueTicket.objects.get(pk=resolve(urlsplit(taken["Location"]).path).kwargs["pk"]), scan(svg[1])


def serve(ticket, window, clerk) -> None:
    called = services.ticket_call_next(actor=clerk, window=window)
    assert called == ticket
    services.ticket_finish(actor=clerk, ticket=services.ticket_start(actor=clerk, ticket=called))


def test_the_ticket_qr_code_rates_its_visit_once_without_sign_in(client_as, hall, item, window, people):
    kiosk = client_as(people.clerk)
    ticket, url = printed_ticket(kiosk, hall, item)
    assert url.startswith("http://testserver/")
    assert resolve(urlsplit(url).path).url_name == "rate_visit"
    visitor = Client()

    waiting = visitor.get(url)
    assert waiting.status_code == 200 and ticket.number in waiting.content.decode()
    assert "窗口办理结束后才能评价" in waiting.content.decode()
    assert 'name="level"' not in waiting.content.decode()
    assert visitor.post(url, {"level": "1"}).status_code == 409
    assert not Evaluation.objects.exists()

    serve(ticket, window, people.clerk)
    assert 'name="level"' in visitor.get(url).content.decode()
    rated = visitor.post(url, {"level": "2"})
    assert rated.status_code == 200 and "感谢您的评价" in rated.content.decode()
    evaluation = Evaluation.objects.get()
    assert evaluation.ticket == ticket and evaluation.rater is None
    assert evaluation.channel == EvaluationChannel.QR_CODE and evaluation.level == 2

    assert visitor.post(url, {"level": "5", "comment": "再评一次"}).status_code == 409
    assert client_as(people.citizen2).post(url, {"level": "5", "comment": "再评一次"}).status_code == 409
    assert "本次服务已评价" in visitor.get(url).content.decode()
    assert Evaluation.objects.count() == 1


def test_each_ticket_has_its_own_code_at_the_public_address(client_as, hall, item, window, people, settings):
    settings.ONEWINDOW_PUBLIC_URL = "https://zwfw.example.gov.cn"
    kiosk = client_as(people.clerk)
    first, first_url = printed_ticket(kiosk, hall, item)
    _second, second_url = printed_ticket(kiosk, hall, item)
    assert first_url.startswith("https://zwfw.example.gov.cn/") and first_url != second_url
    serve(first, window, people.clerk)
    visitor = Client()
    # The second ticket's code rates the second visit only, which is not served yet.
    assert visitor.post(second_url, {"level": "1"}).status_code == 409
    assert visitor.post(first_url, {"level": "1"}).status_code == 200
    assert Evaluation.objects.get().ticket == first
    forged = urlsplit(first_url).path.replace("visits/", "visits/x")
    assert visitor.get(forged).status_code == 404
