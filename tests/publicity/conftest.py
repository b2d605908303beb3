"""Publicity reads the cases' small world: delivered cases of the market department, whose
applicant has a real name, ID number and phone that must never appear on a public page."""

import datetime as dt

import pytest

from onewindow.core.identifiers import make_id_number
from onewindow.core.services.calendar import calendar_seed_from_package
from tests.cases.conftest import (  # noqa: F401
    approver,
    delivered_case,
    filed_case,
    item,
    reviewer,
)
from tests.catalogue.conftest import basic, publish, world  # noqa: F401

SECRET_NAME = "欧阳娜娜"
SECRET_PHONE = "13912345678"
SECRET_ID = make_id_number("520302", dt.date(1990, 7, 25), 222)


@pytest.fixture(autouse=True)
def calendar(db):
    calendar_seed_from_package(actor=None)


@pytest.fixture
def applicant(world):
    citizen = world.citizen
    citizen.real_name = SECRET_NAME
    citizen.phone = SECRET_PHONE
    citizen.id_number = SECRET_ID
    citizen.real_name_verified = True
    citizen.save()
    return citizen
